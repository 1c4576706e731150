"""Business rules: no HTTP here, so they can be tested and reused without a request."""


class ServiceError(Exception):
    """A business rule said no; routers translate it into an HTTP status."""


class Conflict(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class InvalidCredentials(ServiceError):
    pass
