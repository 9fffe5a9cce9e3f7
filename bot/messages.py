"""Neutral outbound content: rendered by each adapter into its platform's format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Button", "Form", "FormField", "Image", "Message", "Sender"]


@dataclass(frozen=True, slots=True)
class Button:
    """A button: a link when ``url`` is set, otherwise an action the bot receives back."""

    label: str
    url: str | None = None
    action_id: str | None = None
    value: str = ""
    style: str | None = None  # "primary" or "danger"
    opens_form: bool = False  # the bot answers the click with a form (see Form): do not defer


@dataclass(frozen=True, slots=True)
class FormField:
    """One text input of a :class:`Form`."""

    id: str
    label: str
    multiline: bool = True
    required: bool = True
    max_length: int = 2000
    placeholder: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    """A small form shown over the conversation (a modal), opened by a button click.

    Adapters that can show one provide ``async def open_form(self, event: ButtonClicked,
    form: Form) -> bool`` (True when shown); its submission comes back as a
    :class:`~bot.events.FormSubmitted` with ``form_id`` = :attr:`id`.
    """

    id: str
    title: str
    fields: tuple[FormField, ...]
    submit: str = "Send"


@dataclass(frozen=True, slots=True)
class Image:
    """An image shown with the message."""

    url: str
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """A named sender for announcements (the CEO's name and picture)."""

    name: str
    icon_url: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One outgoing message, whatever the platform."""

    text: str
    title: str | None = None
    buttons: tuple[Button, ...] = ()
    images: tuple[Image, ...] = ()
    context: str | None = None
    sender: Sender | None = None
    pin: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the outbox)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """The inverse of :meth:`to_dict`."""
        sender = data.get("sender")
        return cls(
            text=data["text"],
            title=data.get("title"),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            images=tuple(Image(**i) for i in data.get("images", ())),
            context=data.get("context"),
            sender=Sender(**sender) if sender else None,
            pin=bool(data.get("pin", False)),
            metadata=dict(data.get("metadata", {})),
        )

    def plain_text(self) -> str:
        """A plain-text rendering, used as a fallback and in previews."""
        parts = [f"*{self.title}*"] if self.title else []
        parts.append(self.text)
        parts.extend(f"[{b.label}]({b.url})" if b.url else f"[{b.label}]" for b in self.buttons)
        parts.extend(f"![{i.alt}]({i.url})" for i in self.images)
        if self.context:
            parts.append(self.context)
        return "\n".join(parts)
