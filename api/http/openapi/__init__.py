"""The OpenAPI document at ``/schema``: Litestar's, generated from the routes' wire shapes,
finished by ``document.finish`` with what it cannot see in the handlers' signatures (request
bodies, problem responses read from the code, the signed-request scheme)."""
