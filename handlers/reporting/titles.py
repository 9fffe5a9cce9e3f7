"""What the campaign files call the things the indicators count by id: a challenge
(``campaign/challenge``) by its title, a survey (``campaign/step``) by its title (else its
step's), a campaign by its title, a post by its step's title.

The figures come from the database, which keeps ids; the reports show these words instead,
in the reader's language, and the id only where the files give no title (or no longer have
the challenge or the survey).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rallybot.campaigns.base import LocalizedText, pick_locale
from rallybot.campaigns.engagement import challenge_words, challenges_of
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.survey import step_survey_id

__all__ = ["Titles", "titles_of"]

# A title and the language of its campaign file (the fallback when the reader's is missing).
_Text = tuple[LocalizedText, str]


@dataclass(frozen=True, slots=True)
class Titles:
    """Titles by id; each method returns the id itself when no title is known."""

    challenges: Mapping[str, _Text] = field(default_factory=dict)
    surveys: Mapping[str, _Text] = field(default_factory=dict)
    campaigns: Mapping[str, str] = field(default_factory=dict)
    steps: Mapping[tuple[str, str], _Text] = field(default_factory=dict)

    def challenge(self, key: str, locale: str | None) -> str:
        """The challenge ``campaign/challenge``'s title in ``locale``; its words and its
        campaign's title when no campaign file has it any more."""
        title = _pick(self.challenges.get(key), locale)
        if title:
            return title
        return challenge_words(key, self.campaigns.get(key.rpartition("/")[0]), locale)

    def survey(self, key: str, locale: str | None) -> str:
        """The survey ``campaign/step``'s title (else its step's) in ``locale``."""
        return _pick(self.surveys.get(key), locale) or key

    def campaign(self, campaign_id: str) -> str:
        """The campaign's title."""
        return self.campaigns.get(campaign_id) or campaign_id

    def has_step(self, campaign_id: str, step_id: str) -> bool:
        """Whether the step has a title in its campaign file."""
        return (campaign_id, step_id) in self.steps

    def step(self, campaign_id: str, step_id: str, locale: str | None) -> str:
        """The step's title in ``locale``."""
        return _pick(self.steps.get((campaign_id, step_id)), locale) or step_id


def _pick(text: _Text | None, locale: str | None) -> str:
    if text is None:
        return ""
    value, default = text
    return " ".join(pick_locale(value, locale, default)[1].split())


def titles_of(campaigns: Mapping[str, Campaign]) -> Titles:
    """The titles of ``campaigns``' challenges, surveys, steps and of the campaigns."""
    challenges: dict[str, _Text] = {}
    surveys: dict[str, _Text] = {}
    steps: dict[tuple[str, str], _Text] = {}
    names: dict[str, str] = {}
    for campaign in campaigns.values():
        default = campaign.spec.locale
        names[campaign.id] = campaign.spec.title
        for challenge in challenges_of(campaign):
            challenges[challenge.key] = (challenge.title, default)
        for step in campaign.steps:
            spec = step.spec
            if spec.title is not None:
                steps[(campaign.id, step.id)] = (spec.title, default)
            survey = spec.survey
            if survey is None:
                continue
            title = survey.title if survey.title is not None else spec.title
            if title is not None:
                surveys[step_survey_id(campaign.id, step.id, spec.renamed_from)] = (title, default)
    return Titles(challenges, surveys, names, steps)
