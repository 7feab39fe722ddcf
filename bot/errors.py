"""One exception tree for everything newsbot reports to a person."""


class NewsbotError(Exception):
    """Base of every error newsbot raises on purpose; its message says what to do."""


class InputError(NewsbotError):
    """A file or text given to newsbot cannot be read or understood."""


class ConfigError(NewsbotError):
    """A configuration file is invalid; the last good configuration stays in force."""


class FeedError(NewsbotError):
    """A feed could not be fetched or parsed."""


class StoreError(NewsbotError):
    """The data store cannot be opened or written."""


class PrefsError(InputError):
    """A chat's preference input (time zone, digest times, items) is invalid; the message is
    written for the chat user and says what to send instead."""


class QueryError(InputError):
    """A search query cannot be run as typed; the message tells the user how to fix it."""


class ConfigFileError(ConfigError):
    """Configuration files are invalid; ``problems`` holds one line per problem, each naming
    the file, line and key and what is allowed."""

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} problems in the configuration:\n{listed}"
        super().__init__(message)


class FeedEditError(InputError):
    """A change to ``feeds.toml`` was refused; the file is unchanged and the message says why."""


class UnknownFeedError(FeedEditError):
    """No feed, or more than one, matches the name given; the message lists the feeds."""


class EditConflictError(FeedEditError):
    """``feeds.toml`` was edited by hand while a command changed it, and the command no longer
    applies to the new text; nothing was written."""


class OpmlError(InputError):
    """An OPML file cannot be read: not OPML, too large, or unsafe XML (DTDs, entities)."""
