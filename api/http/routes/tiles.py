"""The log as static tiles (C2SP tlog-tiles), served under the prefix ``/tiles``:

    /tiles/checkpoint                   the published checkpoint, with witness cosignatures
    /tiles/tile/<L>/<N>[.p/<W>]         hash tiles
    /tiles/tile/entries/<N>[.p/<W>]     entry bundles (gzip when the client accepts it)

The same paths, with the same bytes, as a folder written by ``rural-ledger tiles write``
(``api.service.tiles_writer``), so a mirror reads either. The prefix is ``/tiles`` because
``/checkpoint`` is the public board's page. Full tiles are immutable and cached for a year;
partial tiles are answered for any size they fit in (their bytes never change either, but
they are dropped once their full tile exists) and cached briefly, as is the checkpoint.
A path not written as the spec writes it is a 400 problem; one beyond the published tree 404.
"""

from __future__ import annotations

import gzip

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath

from api.http.dependencies import Db
from api.http.problems import ApiProblem
from api.service import tiles_store
from ledger.errors import Category, MalformedError
from ledger.tiles import parse_tile_path

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
CHECKPOINT = "public, max-age=5"
OCTETS = "application/octet-stream"


def _scan(state: State) -> tiles_store.OversizeScan:
    scan = getattr(state, "tiles_oversize", None)
    if scan is None:
        scan = tiles_store.OversizeScan()
        state.tiles_oversize = scan
    return scan


async def _published(db: Db, state: State) -> tiles_store.TilesPublished:
    pub = await db.run_sync(tiles_store.published, _scan(state))
    if pub is None:
        raise ApiProblem(Category.NOT_FOUND, "checkpoint.not_found", "no checkpoint published as tiles yet")
    return pub


class TileController(Controller):
    path = "/tiles"
    include_in_schema = False  # binary files for mirrors, described in docs/tiles.md

    @get("/checkpoint", media_type="text/plain")
    async def checkpoint(self, db: Db, state: State) -> Response[str]:
        pub = await _published(db, state)
        return Response(pub.note, media_type="text/plain", headers={"Cache-Control": CHECKPOINT})

    @get("/tile/{rest:path}", media_type=OCTETS)
    async def tile(
        self, request: Request[object, object, State], db: Db, state: State, rest: FromPath[str]
    ) -> Response[bytes]:
        path = "tile" + rest
        try:
            tile = parse_tile_path(path)
        except MalformedError as e:
            raise ApiProblem(Category.MALFORMED, "tile.bad_path", str(e)) from e
        pub = await _published(db, state)
        data = await db.run_sync(tiles_store.tile_bytes, tile, pub.size)
        if data is None:
            raise ApiProblem(
                Category.NOT_FOUND,
                "tile.not_found",
                f"{path} is beyond the published tree of {pub.size} records",
            )
        headers = {"Cache-Control": IMMUTABLE if tile.full else PARTIAL}
        if tile.is_bundle:
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in request.headers.get("accept-encoding", ""):
                data = gzip.compress(data, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
        return Response(data, media_type=OCTETS, headers=headers)
