"""FakeMaestro: a high-fidelity fake of the FlowMaestro public REST API v1."""

__version__ = "0.1.0"


def create_app(*args, **kwargs):
    """See fakemaestro.app.create_app (imported lazily to keep `import fakemaestro` light)."""
    from .app import create_app as _create_app
    return _create_app(*args, **kwargs)
