"""HTTP layer: the request pipeline, production-shaped bodies and errors."""
