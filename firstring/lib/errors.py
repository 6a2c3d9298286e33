"""Domain errors. Services raise these; the API and the web app map them to status codes in one place."""


class DomainError(Exception):
    status_code = 400


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class TooLarge(DomainError):
    status_code = 413


class RateLimited(DomainError):
    status_code = 429


class Gone(DomainError):
    status_code = 410
