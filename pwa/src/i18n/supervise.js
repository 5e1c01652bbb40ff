// Words the supervisor's screens share, under $t('supervise.…'). Each screen keeps its own
// messages in evidence.js (map and evidence), review.js (queue) and dashboard.js
// (dashboard and ledgers).
export default {
  'zh-CN': {
    title: '督导',
    nav: { map: '地图', review: '审核', dashboard: '统计', exports: '台账' },
    loadFailed: '加载失败：{message}',
    recordType: { visit: '走访', inspection: '检查' },
    // An ApiError in words (errorMessage.js), for every supervisor screen.
    errors: {
      offline: '无法连接服务器，请检查网络后重试',
      expired: '登录已过期，请重新登录',
      forbidden: '您没有权限查看或操作这些数据',
      notFound: '所选内容不存在或不在您的辖区',
      conflict: '数据刚被修改过，请刷新后重试',
      validation: '条件有误：{fields}',
      busy: '服务器繁忙，请稍后重试',
      server: '服务器出错（{status}），请稍后重试',
      other: '请求失败（{status}）',
      ownRecord: '本人填报，须由其他督查审核',
      invalidTransition: '这条记录现为“{status}”，不能这样审核',
      // returned and rejected go back to pending only when the author changes the record.
      invalidTransitionWaiting: '这条记录现为“{status}”，须等填报人修改后重新提交才能再审核',
      invalidTransitionUnknown: '这条记录的审核状态已变化，不能这样审核',
    },
    // The area chain of the queue's filters and the ledgers: each select's empty choice is the
    // whole of the area above it.
    area: {
      whole: '全部（{name}）', failed: '区域列表加载失败', retry: '重试',
      levels: { area: '区域', county: '县', township: '乡镇', village: '村(社区)', grid: '网格' },
    },
    review: { pending: '待审核', approved: '已通过', rejected: '已驳回', returned: '已退回' },
    // The server's flag codes, as the ledgers print them.
    flags: {
      no_exif_gps: '照片无定位', exif_far_from_device: '照片位置与手机定位不符', far_from_target: '距走访对象过远',
      time_mismatch: '拍摄时间不符', older_than_record: '照片早于走访', reused: '重复使用的照片',
      near_duplicate: '疑似重复照片', edited: '经修图软件处理',
    },
    actions: {
      approve: '通过', return: '退回修改', reject: '驳回',
      returnTitle: '退回给填报人修改', rejectTitle: '驳回这条记录',
      commentPlaceholder: '写明原因，填报人会在手机上看到',
      commentRequired: '请填写原因',
      done: { approved: '已通过', returned: '已退回，填报人下次同步时会收到', rejected: '已驳回' },
      stale: '这条记录刚被修改过，请重新查看后再审核',
      gone: '这条记录已不在待审核范围（已删除或不在您的辖区）',
      failed: '审核失败：{message}',
      reread: '{message}；已重新读取这条记录',
      own: '本人填报',
    },
  },
  en: {
    title: 'Supervise',
    nav: { map: 'Map', review: 'Review', dashboard: 'Dashboard', exports: 'Ledgers' },
    loadFailed: 'Could not load: {message}',
    recordType: { visit: 'Visit', inspection: 'Inspection' },
    errors: {
      offline: 'The server cannot be reached; check the network and retry',
      expired: 'The sign-in has expired; sign in again',
      forbidden: 'You may not see or change these data',
      notFound: 'It does not exist or is outside your area',
      conflict: 'The data changed a moment ago; refresh and retry',
      validation: 'Check the conditions: {fields}',
      busy: 'The server is busy; try again later',
      server: 'Server error ({status}); try again later',
      other: 'The request failed ({status})',
      ownRecord: 'You wrote it: another supervisor reviews it',
      invalidTransition: 'This record is now “{status}” and cannot be ruled so',
      invalidTransitionWaiting: 'This record is now “{status}”: it is ruled on again once its author changes it',
      invalidTransitionUnknown: 'This record’s review status changed; it cannot be ruled so',
    },
    area: {
      whole: 'All of {name}', failed: 'Could not load the areas', retry: 'Retry',
      levels: { area: 'Area', county: 'County', township: 'Township', village: 'Village', grid: 'Grid' },
    },
    review: { pending: 'Pending', approved: 'Approved', rejected: 'Rejected', returned: 'Returned' },
    flags: {
      no_exif_gps: 'Photo has no GPS', exif_far_from_device: 'Photo position differs from the phone’s',
      far_from_target: 'Far from the target', time_mismatch: 'Capture time differs', older_than_record:
        'Photo older than the record', reused: 'Photo used before', near_duplicate: 'Near-duplicate photo',
      edited: 'Edited with an app',
    },
    actions: {
      approve: 'Approve', return: 'Return', reject: 'Reject',
      returnTitle: 'Return to the author for changes', rejectTitle: 'Reject this record',
      commentPlaceholder: 'Say why; the author sees it on the phone',
      commentRequired: 'Give a reason',
      done: { approved: 'Approved', returned: 'Returned; the author gets it on the next sync', rejected: 'Rejected' },
      stale: 'The record changed a moment ago; look at it again before ruling',
      gone: 'The record is no longer there to review (deleted or outside your area)',
      failed: 'The ruling failed: {message}',
      reread: '{message}; the record was read again',
      own: 'You wrote it',
    },
  },
}
