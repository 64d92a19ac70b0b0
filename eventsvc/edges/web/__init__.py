"""Server-rendered pages."""


def register(app) -> None:
    pass
