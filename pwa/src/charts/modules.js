// The parts of ECharts the dashboard draws with, registered once. Imported statically here
// (so the bundler keeps only these) and this module dynamically by engine.js (so it
// is a chunk of its own, never on the first screen).
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer])

export default echarts
