"""Neutral outbound content: rendered by each adapter into its platform's format.

The message model (messages, buttons, images, senders, member text) is defined in
:mod:`rallybot.campaigns.messages`, below the kernel, because campaign steps render to it;
it is imported here so that the kernel, the adapters and the features keep one place to
import it from. Forms, which only the kernel and the features open, are defined here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rallybot.campaigns.messages import (
    MEMBER_CLOSE,
    MEMBER_OPEN,
    Button,
    Image,
    MemberText,
    Message,
    Sender,
    clean_member_text,
    member,
    member_segments,
    plain,
    readable,
)

__all__ = [
    "MEMBER_CLOSE",
    "MEMBER_OPEN",
    "Button",
    "Form",
    "FormField",
    "Image",
    "MemberText",
    "Message",
    "Sender",
    "clean_member_text",
    "member",
    "member_segments",
    "plain",
    "readable",
]


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
