"""Interface texts of the participant and researcher pages, in Dutch and English.

Protocol texts (item labels, choices, consent) come from the protocol in the person's
language; everything else on a page comes from :data:`MESSAGES`. Every key exists in
every language (a test checks it), and :func:`translate` falls back to English for a
language that is not offered.

The wording is neutral on purpose: nothing here mentions the study's topic or the
partner's answers, because a participant's partner may see the screen, the page title
or the browser history.

Examples
--------
>>> translate("nl", "save")
'Versturen'
>>> translate("en", "open_until", time="23:59")
'Open until 23:59'
>>> t = translator("xx")
>>> t.language, t("save")
('en', 'Send')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LANGUAGES", "MESSAGES", "Translator", "label_in", "translate", "translator"]

#: Languages of the interface.
LANGUAGES: tuple[str, ...] = ("en", "nl")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "site_title": "Study",
        "quick_exit": "Quick exit",
        "quick_exit_help": "Leaves this page at once and logs you out on this device.",
        "skip_to_content": "Skip to content",
        "link_invalid_title": "Link not valid",
        "link_invalid": (
            "This link is not valid. Please use the personal link you received, "
            "or contact the research team."
        ),
        "opening": "Opening…",
        "continue": "Continue",
        "no_session": (
            "Please open the personal link you received to continue. For your privacy "
            "you are logged out after a quick exit."
        ),
        "consent_title": "Information and consent",
        "consent_version": "Version {version}",
        "consent_agree": "I have read the information above and I agree to take part.",
        "consent_submit": "Give consent",
        "consent_required": "Please tick the box to give consent.",
        "home_title": "Today",
        "open_now": "Open now",
        "nothing_open": "There is nothing to answer right now. Thank you!",
        "open_until": "Open until {time}",
        "report": "Report",
        "report_help": "Open this whenever it applies to you.",
        "answer_now": "Answer",
        "thanks": "Thank you, your answers have been received.",
        "back_home": "Back to the overview",
        "pending_count": "{n} answer(s) saved on this device, waiting to be sent.",
        "saved_on_device": (
            "Saved on this device. Your answers will be sent automatically when you are "
            "online again; keep this page or the overview open."
        ),
        "sending": "Sending…",
        "sent": "Thank you, your answers have been received.",
        "not_open": (
            "This questionnaire is not open any more, so your answers were not stored. "
            "Your answers are kept on this device in the form below."
        ),
        "fix_errors": "Please check the answers marked below.",
        "error_summary": "There is a problem",
        "required": "Please answer this question.",
        "required_mark": "(required)",
        "optional_mark": "(optional)",
        "slider_untouched": "Not answered yet — move the slider",
        "slider_value": "Your answer: {value}",
        "slider_range": "From {min} to {max}",
        "save": "Send",
        "questionnaire_closed": "This questionnaire is not open now.",
        "settings_title": "Settings",
        "language": "Language",
        "timezone": "Time zone",
        "timezone_help": "For example Europe/Amsterdam. Questions open at your local time.",
        "email": "E-mail address for reminders (optional)",
        "settings_save": "Save settings",
        "settings_saved": "Your settings have been saved.",
        "withdraw_title": "Stop taking part",
        "withdraw_intro": (
            "You can stop at any time, without giving a reason. After you stop you will "
            "not receive questions or reminders any more."
        ),
        "withdraw_delete": (
            "Also delete the answers I have given so far (including what I said about my partner)."
        ),
        "withdraw_confirm": "Stop taking part",
        "withdrawn_title": "You have stopped taking part",
        "withdrawn": "You have stopped taking part. Thank you for your time.",
        "withdrawn_deleted": "Your answers have been deleted.",
        "menu": "Menu",
        "nav_home": "Overview",
        "nav_settings": "Settings",
        "nav_withdraw": "Stop taking part",
        "csrf_failed": "The form has expired. Please reload the page and try again.",
        "yes": "Yes",
        "no": "No",
        "page_error": "Something went wrong. Please try again.",
        "push_title": "Reminders on this device",
        "push_help": (
            "Get a short notice on this device when a questionnaire is open. The notice "
            "only says that a questionnaire is waiting."
        ),
        "push_turn_on": "Turn on reminders on this device",
        "push_turn_off": "Turn off reminders on this device",
        "push_working": "One moment…",
        "push_on": "Reminders are on for this device.",
        "push_off": "Reminders are off for this device.",
        "push_denied": (
            "Notifications are blocked for this site. You can allow them in your browser's "
            "settings."
        ),
        "push_failed": "Reminders could not be turned on. Please try again later.",
    },
    "nl": {
        "site_title": "Onderzoek",
        "quick_exit": "Snel weg",
        "quick_exit_help": "Verlaat deze pagina meteen en logt je op dit apparaat uit.",
        "skip_to_content": "Naar de inhoud",
        "link_invalid_title": "Link niet geldig",
        "link_invalid": (
            "Deze link is niet geldig. Gebruik de persoonlijke link die je hebt gekregen, "
            "of neem contact op met het onderzoeksteam."
        ),
        "opening": "Bezig met openen…",
        "continue": "Verder",
        "no_session": (
            "Open de persoonlijke link die je hebt gekregen om verder te gaan. Voor je "
            "privacy ben je na 'Snel weg' uitgelogd."
        ),
        "consent_title": "Informatie en toestemming",
        "consent_version": "Versie {version}",
        "consent_agree": "Ik heb de informatie hierboven gelezen en ik doe mee.",
        "consent_submit": "Toestemming geven",
        "consent_required": "Vink het vakje aan om toestemming te geven.",
        "home_title": "Vandaag",
        "open_now": "Nu open",
        "nothing_open": "Er is nu niets te beantwoorden. Dank je wel!",
        "open_until": "Open tot {time}",
        "report": "Melden",
        "report_help": "Open dit wanneer het op jou van toepassing is.",
        "answer_now": "Beantwoorden",
        "thanks": "Dank je wel, je antwoorden zijn ontvangen.",
        "back_home": "Terug naar het overzicht",
        "pending_count": "{n} antwoord(en) op dit apparaat bewaard, nog niet verstuurd.",
        "saved_on_device": (
            "Opgeslagen op dit apparaat. Je antwoorden worden vanzelf verstuurd zodra je "
            "weer online bent; laat deze pagina of het overzicht open."
        ),
        "sending": "Bezig met versturen…",
        "sent": "Dank je wel, je antwoorden zijn ontvangen.",
        "not_open": (
            "Deze vragenlijst is niet meer open, dus je antwoorden zijn niet opgeslagen. "
            "Je antwoorden blijven op dit apparaat bewaard in het formulier hieronder."
        ),
        "fix_errors": "Kijk de gemarkeerde antwoorden hieronder na.",
        "error_summary": "Er is een probleem",
        "required": "Beantwoord deze vraag.",
        "required_mark": "(verplicht)",
        "optional_mark": "(niet verplicht)",
        "slider_untouched": "Nog niet beantwoord — verschuif de schuif",
        "slider_value": "Jouw antwoord: {value}",
        "slider_range": "Van {min} tot {max}",
        "save": "Versturen",
        "questionnaire_closed": "Deze vragenlijst is nu niet open.",
        "settings_title": "Instellingen",
        "language": "Taal",
        "timezone": "Tijdzone",
        "timezone_help": "Bijvoorbeeld Europe/Amsterdam. Vragen openen op jouw plaatselijke tijd.",
        "email": "E-mailadres voor herinneringen (niet verplicht)",
        "settings_save": "Instellingen opslaan",
        "settings_saved": "Je instellingen zijn opgeslagen.",
        "withdraw_title": "Stoppen met deelnemen",
        "withdraw_intro": (
            "Je kunt altijd stoppen, zonder een reden te geven. Daarna krijg je geen vragen "
            "of herinneringen meer."
        ),
        "withdraw_delete": (
            "Verwijder ook de antwoorden die ik tot nu toe heb gegeven (ook wat ik over mijn "
            "partner heb gezegd)."
        ),
        "withdraw_confirm": "Stoppen met deelnemen",
        "withdrawn_title": "Je bent gestopt met deelnemen",
        "withdrawn": "Je bent gestopt met deelnemen. Dank je wel voor je tijd.",
        "withdrawn_deleted": "Je antwoorden zijn verwijderd.",
        "menu": "Menu",
        "nav_home": "Overzicht",
        "nav_settings": "Instellingen",
        "nav_withdraw": "Stoppen met deelnemen",
        "csrf_failed": "Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
        "yes": "Ja",
        "no": "Nee",
        "page_error": "Er ging iets mis. Probeer het opnieuw.",
        "push_title": "Herinneringen op dit apparaat",
        "push_help": (
            "Krijg een korte melding op dit apparaat als er een vragenlijst open staat. De "
            "melding zegt alleen dat er een vragenlijst klaarstaat."
        ),
        "push_turn_on": "Herinneringen aanzetten op dit apparaat",
        "push_turn_off": "Herinneringen uitzetten op dit apparaat",
        "push_working": "Even geduld…",
        "push_on": "Herinneringen staan aan op dit apparaat.",
        "push_off": "Herinneringen staan uit op dit apparaat.",
        "push_denied": (
            "Meldingen zijn geblokkeerd voor deze site. Je kunt ze toestaan in de "
            "instellingen van je browser."
        ),
        "push_failed": "Herinneringen konden niet worden aangezet. Probeer het later opnieuw.",
    },
}

#: Texts the browser script needs (sent to it in the page, in the person's language).
SCRIPT_KEYS: tuple[str, ...] = (
    "saved_on_device",
    "sending",
    "sent",
    "not_open",
    "fix_errors",
    "required",
    "slider_untouched",
    "slider_value",
    "pending_count",
    "page_error",
    "csrf_failed",
)


def _language(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def translate(language: str | None, key: str, **values: object) -> str:
    """The interface text ``key`` in ``language`` (English if not offered), formatted.

    Raises
    ------
    KeyError
        If ``key`` is not a message (a programming error, caught by the tests).
    """
    text = MESSAGES[_language(language)][key]
    return text.format(**values) if values else text


def label_in(labels: Mapping[str, str], language: str, default_language: str) -> str:
    """A protocol text in ``language``, else the protocol's default language, else any.

    Examples
    --------
    >>> label_in({"en": "Yes", "nl": "Ja"}, "nl", "en")
    'Ja'
    >>> label_in({"en": "Yes"}, "nl", "en")
    'Yes'
    """
    if language in labels:
        return labels[language]
    if default_language in labels:
        return labels[default_language]
    return next(iter(labels.values()), "")


@dataclass(frozen=True)
class Translator:
    """``t(key, **values)`` bound to one language (passed to the templates as ``t``)."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        return translate(self.language, key, **values)

    def script_messages(self) -> dict[str, str]:
        """The texts the browser script needs, in this language."""
        return {key: translate(self.language, key) for key in SCRIPT_KEYS}


def translator(language: str | None) -> Translator:
    """A :class:`Translator` for ``language`` (English if it is not offered)."""
    return Translator(_language(language))
