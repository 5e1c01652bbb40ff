"""A SHA-256 is not a key: knowing the hash of another area's photo gives nothing of it.

HEAD /api/blobs/{sha256} answers 200 only when a live photo with those bytes is visible to
the caller; otherwise an attach waits for its own upload, and what the photo says of
itself (size, EXIF position, camera, display copy) comes from the bytes received.
"""

from __future__ import annotations

import uuid

import pytest

from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_visit, photo, sha256, upload
from tests.sync.conftest import Device, cadre, device, supervisor  # noqa: F401

POSITION = (30.2741, 120.1551)


@pytest.fixture
def jpeg() -> bytes:
    return generated_jpeg(seed=21, exif=gps_exif(*POSITION, taken="2026:11:20 09:40:00", make="HUAWEI",
                                                 model="Mate 60"))


@pytest.fixture
def outsider(tree) -> Device:
    """A cadre of another township of the same county."""
    return device("cadre-v2", tree.V2, "cadre")


def stored(client, owner: Device, data: bytes, **fields) -> str:
    photo_id = str(uuid.uuid4())
    assert attach(client, owner, new_visit(client, owner, **fields), data, photo_id=photo_id)["status"] == "applied"
    if photo(client, owner.headers, photo_id)["status"] != "stored":
        upload(client, owner.headers, photo_id, data)
    assert photo(client, owner.headers, photo_id)["status"] == "stored"
    return photo_id


def head(client, reader: Device, data: bytes) -> int:
    return client.head(f"/api/blobs/{sha256(data)}", headers=reader.headers).status_code


def test_head_blob_is_404_for_bytes_held_only_in_another_area(client, cadre, outsider, supervisor, jpeg):  # noqa: F811
    stored(client, cadre, jpeg)
    neighbour = device("cadre-v1-b", cadre.user.area_code, "cadre")

    assert head(client, outsider, jpeg) == 404
    assert (head(client, cadre, jpeg), head(client, neighbour, jpeg), head(client, supervisor, jpeg)) == (200,) * 3


def test_head_blob_is_404_when_the_only_photo_holding_the_bytes_was_deleted(client, cadre, jpeg):  # noqa: F811
    photo_id = stored(client, cadre, jpeg)
    mutation = cadre.mutation("photo.delete", photo_id)
    assert client.post("/api/sync/push", headers=cadre.headers,
                       json={"client_id": cadre.client_id, "mutations": [mutation]}).status_code == 200

    assert head(client, cadre, jpeg) == 404


def test_naming_another_areas_sha256_gets_nothing_of_its_photo(client, cadre, outsider, tree, jpeg):  # noqa: F811
    stored(client, cadre, jpeg)
    visit_id, claimed = new_visit(client, outsider, area_code=tree.V2), str(uuid.uuid4())

    result = attach(client, outsider, visit_id, jpeg, photo_id=claimed, bytes=1)
    assert result["status"] == "applied", result
    asked = head(client, outsider, jpeg)

    got = photo(client, outsider.headers, claimed)
    assert asked == 404
    assert got["status"] == "awaiting_upload"
    assert (got["exif_lat"], got["exif_lon"], got["make"], got["model"], got["width"], got["mime"]) == (None,) * 6
    assert got["bytes"] == 1
    image = client.get(f"/api/photos/{claimed}/display", headers=outsider.headers)
    assert (image.status_code, image.get_json()["reason"]) == (404, "photo_awaiting_upload")


def test_a_claim_made_before_the_real_upload_is_not_linked_by_it(client, cadre, outsider, tree, jpeg):  # noqa: F811
    visit_id, claimed = new_visit(client, outsider, area_code=tree.V2), str(uuid.uuid4())
    assert attach(client, outsider, visit_id, jpeg, photo_id=claimed)["status"] == "applied"

    stored(client, cadre, jpeg)

    assert photo(client, outsider.headers, claimed)["status"] == "awaiting_upload"


def test_bytes_really_received_from_another_area_are_linked_and_described(client, cadre, outsider, tree,  # noqa: F811
                                                                          jpeg):
    stored(client, cadre, jpeg)
    photo_id = stored(client, outsider, jpeg, area_code=tree.V2)

    got = photo(client, outsider.headers, photo_id)
    assert (got["bytes"], got["make"], got["model"]) == (len(jpeg), "HUAWEI", "Mate 60")
    assert got["exif_lat"] == pytest.approx(POSITION[0], abs=1e-6)


def test_a_photo_linked_at_attach_has_the_size_of_the_bytes_received(client, cadre, jpeg):  # noqa: F811
    stored(client, cadre, jpeg)
    later = str(uuid.uuid4())

    assert attach(client, cadre, new_visit(client, cadre), jpeg, photo_id=later, bytes=7)["status"] == "applied"

    got = photo(client, cadre.headers, later)
    assert (got["status"], got["bytes"]) == ("stored", len(jpeg))


def test_an_upload_links_the_authors_other_photo_waiting_for_the_same_bytes(client, cadre, jpeg):  # noqa: F811
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for photo_id in (first, second):
        assert attach(client, cadre, new_visit(client, cadre), jpeg, photo_id=photo_id)["status"] == "applied"

    upload(client, cadre.headers, first, jpeg)

    assert photo(client, cadre.headers, second)["status"] == "stored"


def test_head_links_only_the_callers_own_waiting_photos(client, cadre, supervisor, tree, jpeg):  # noqa: F811
    author = device("cadre-a", tree.A, "cadre")  # a county cadre who writes in V2
    stored(client, author, jpeg, area_code=tree.V2)
    waiting = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), jpeg, photo_id=waiting)["status"] == "applied"
    assert photo(client, cadre.headers, waiting)["status"] == "awaiting_upload"  # V1 cannot see V2's photo

    assert head(client, supervisor, jpeg) == 200  # the county supervisor sees both

    assert photo(client, cadre.headers, waiting)["status"] == "awaiting_upload"
