"""HTTP: the Litestar app, its routes, problem details, request bodies, signed requests, rate
and log limits, and how `serve` runs uvicorn."""
