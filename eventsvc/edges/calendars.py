"""Calendar feeds and invites over HTTP."""


def register(app) -> None:
    pass
