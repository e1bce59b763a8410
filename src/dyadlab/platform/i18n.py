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
        "quick_exit_help": (
            "Leaves this page at once, logs you out on this device and deletes from it "
            "the answers you have not sent yet."
        ),
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
            "online again; keep this page or the overview open. Quick exit deletes them "
            "from this device."
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
        "slider_type": "Type a number from {min} to {max}.",
        "slider_clear": "Clear answer",
        "rank_position": "Place of {choice}",
        "rank_help": "Give every option its own place, 1 first.",
        "acknowledge_ok": "OK",
        "geopoint_help": (
            "Type the latitude and longitude (for example 52.37 4.89), or use the button. "
            "Your location is only read when you press it, and only this answer keeps it."
        ),
        "geopoint_button": "Use my location",
        "geopoint_failed": "Your location could not be read; type it instead.",
        "more_help": "More help",
        "upload_help": (
            "A file of at most {max}. Only the researchers see it, never your partner."
        ),
        "answer_unknown_item": "This question is not part of this questionnaire.",
        "answer_not_a_number": "Please give a number.",
        "answer_ambiguous_number": (
            "Please write the number without a thousands separator, for example 1000 or 2.5."
        ),
        "answer_not_whole": "Please give a whole number.",
        "answer_between": "Please give a number from {min} to {max}.",
        "answer_at_least": "Please give a number of at least {min}.",
        "answer_at_most": "Please give a number of at most {max}.",
        "answer_not_a_choice": "Please choose one of the options.",
        "answer_duplicate_choice": "Please choose each option only once.",
        "answer_too_long": "Your answer is {length} characters long; at most {max} fit.",
        "answer_bad_character": (
            "Your answer holds an invisible control character; please type it again."
        ),
        "answer_wrong_type": "This answer has the wrong form; please answer the question again.",
        "answer_not_a_date": "Please give a date (year-month-day).",
        "answer_not_a_time": "Please give a time (hours:minutes).",
        "answer_not_relevant": (
            "After your earlier answers this question is not asked; please clear this answer."
        ),
        "answer_constraint": "This answer is not possible here; please check it.",
        "answer_invalid": "This answer cannot be used; please check it.",
        "event_limit": (
            "You have already sent this the largest number of times for today, so your "
            "answers were not stored. They are kept on this device in the form below."
        ),
        "already_answered": (
            "These questions have already been answered for this moment, so these answers "
            "were not stored."
        ),
        "invalid_time": (
            "The clock of this device seems to be wrong. Please check its date and time, "
            "then send again."
        ),
        "consent_needed": "Please read the study information and give consent before answering.",
        "consent_version_changed": (
            "The information has changed. Please read the new version below and give consent again."
        ),
        "timezone_unknown": "'{tz}' is not a time zone name like Europe/Amsterdam.",
        "email_invalid": "This is not an e-mail address like name@example.org.",
        "timezone_suggestion": "Did you mean {hint}?",
        "rating_heading": "Rate as you go",
        "rating_intro": (
            "Move the slider whenever your feeling changes, with your thumb or the arrow "
            "keys. Your ratings are saved every few seconds. Nobody else sees them, your "
            "partner neither."
        ),
        "rating_start": "Start",
        "rating_stop": "Stop",
        "rating_preparing": "Preparing…",
        "rating_running": "Recording. Keep this page open and the screen on.",
        "rating_waiting": "{n} part(s) kept on this device, waiting to be sent.",
        "rating_sending_last": "Sending the last ratings…",
        "rating_ended": "The session has ended. Thank you!",
        "rating_ended_waiting": (
            "The session has ended. Some ratings are still on this device; keep this page "
            "open until they are sent."
        ),
        "rating_value": "Value: {value}",
        "rating_failed": "Something went wrong; please tell the research team.",
        "rating_needs_script": "This page needs JavaScript to record your ratings.",
        "language_unknown": "Please choose a language from the list.",
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
        "push_failed_off": "Reminders could not be turned off. Please try again later.",
    },
    "nl": {
        "site_title": "Onderzoek",
        "quick_exit": "Snel weg",
        "quick_exit_help": (
            "Verlaat deze pagina meteen, logt je op dit apparaat uit en wist daar de "
            "antwoorden die nog niet verstuurd zijn."
        ),
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
            "weer online bent; laat deze pagina of het overzicht open. 'Snel weg' wist ze "
            "van dit apparaat."
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
        "slider_type": "Typ een getal van {min} tot en met {max}.",
        "slider_clear": "Antwoord wissen",
        "rank_position": "Plaats van {choice}",
        "rank_help": "Geef elke keuze een eigen plaats, 1 eerst.",
        "acknowledge_ok": "OK",
        "geopoint_help": (
            "Typ de breedte- en lengtegraad (bijvoorbeeld 52.37 4.89), of gebruik de knop. "
            "Je locatie wordt alleen gelezen als je erop drukt, en alleen dit antwoord bewaart hem."
        ),
        "geopoint_button": "Mijn locatie gebruiken",
        "geopoint_failed": "Je locatie kon niet worden gelezen; typ hem in.",
        "more_help": "Meer uitleg",
        "upload_help": (
            "Een bestand van hoogstens {max}. Alleen de onderzoekers zien het, nooit je partner."
        ),
        "answer_unknown_item": "Deze vraag hoort niet bij deze vragenlijst.",
        "answer_not_a_number": "Vul een getal in.",
        "answer_ambiguous_number": (
            "Schrijf het getal zonder scheidingsteken voor duizendtallen, bijvoorbeeld 1000 of 2,5."
        ),
        "answer_not_whole": "Vul een heel getal in.",
        "answer_between": "Vul een getal in van {min} tot en met {max}.",
        "answer_at_least": "Vul een getal in van minstens {min}.",
        "answer_at_most": "Vul een getal in van hoogstens {max}.",
        "answer_not_a_choice": "Kies een van de mogelijkheden.",
        "answer_duplicate_choice": "Kies elke mogelijkheid maar één keer.",
        "answer_too_long": "Je antwoord is {length} tekens lang; er passen er hoogstens {max}.",
        "answer_bad_character": ("Je antwoord bevat een onzichtbaar stuurteken; typ het opnieuw."),
        "answer_wrong_type": (
            "Dit antwoord heeft niet de juiste vorm; beantwoord de vraag opnieuw."
        ),
        "answer_not_a_date": "Vul een datum in (jaar-maand-dag).",
        "answer_not_a_time": "Vul een tijd in (uren:minuten).",
        "answer_not_relevant": (
            "Na je eerdere antwoorden wordt deze vraag niet gesteld; wis dit antwoord."
        ),
        "answer_constraint": "Dit antwoord kan hier niet; kijk het na.",
        "answer_invalid": "Dit antwoord kan niet worden gebruikt; kijk het na.",
        "event_limit": (
            "Je hebt dit vandaag al het grootste aantal keren verstuurd, dus je antwoorden "
            "zijn niet opgeslagen. Ze blijven op dit apparaat bewaard in het formulier hieronder."
        ),
        "already_answered": (
            "Deze vragen zijn voor dit moment al beantwoord, dus deze antwoorden zijn niet "
            "opgeslagen."
        ),
        "invalid_time": (
            "De klok van dit apparaat lijkt niet te kloppen. Controleer de datum en tijd en "
            "verstuur opnieuw."
        ),
        "consent_needed": (
            "Lees eerst de informatie over het onderzoek en geef toestemming voordat je antwoordt."
        ),
        "consent_version_changed": (
            "De informatie is veranderd. Lees de nieuwe versie hieronder en geef opnieuw "
            "toestemming."
        ),
        "timezone_unknown": "'{tz}' is geen naam van een tijdzone zoals Europe/Amsterdam.",
        "email_invalid": "Dit is geen e-mailadres zoals naam@voorbeeld.nl.",
        "timezone_suggestion": "Bedoel je {hint}?",
        "rating_heading": "Doorlopend beoordelen",
        "rating_intro": (
            "Beweeg de schuifregelaar zodra je gevoel verandert, met je duim of de "
            "pijltjestoetsen. Je scores worden om de paar seconden opgeslagen. Niemand "
            "anders ziet ze, je partner ook niet."
        ),
        "rating_start": "Starten",
        "rating_stop": "Stoppen",
        "rating_preparing": "Voorbereiden…",
        "rating_running": "Bezig met opnemen. Laat deze pagina open en het scherm aan.",
        "rating_waiting": "{n} deel/delen bewaard op dit apparaat, wachten op verzending.",
        "rating_sending_last": "De laatste scores worden verstuurd…",
        "rating_ended": "De sessie is afgelopen. Dank je wel!",
        "rating_ended_waiting": (
            "De sessie is afgelopen. Er staan nog scores op dit apparaat; laat deze pagina "
            "open tot ze verstuurd zijn."
        ),
        "rating_value": "Waarde: {value}",
        "rating_failed": "Er ging iets mis; laat het het onderzoeksteam weten.",
        "rating_needs_script": "Deze pagina heeft JavaScript nodig om je scores op te nemen.",
        "language_unknown": "Kies een taal uit de lijst.",
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
        "push_failed_off": (
            "Herinneringen konden niet worden uitgezet. Probeer het later opnieuw."
        ),
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
    "slider_range",
    "slider_clear",
    "geopoint_button",
    "geopoint_failed",
    "answer_unknown_item",
    "answer_not_a_number",
    "answer_ambiguous_number",
    "answer_not_whole",
    "answer_between",
    "answer_at_least",
    "answer_at_most",
    "answer_not_a_choice",
    "answer_duplicate_choice",
    "answer_too_long",
    "answer_bad_character",
    "answer_wrong_type",
    "answer_not_a_date",
    "answer_not_a_time",
    "answer_not_relevant",
    "answer_constraint",
    "answer_invalid",
    "event_limit",
    "already_answered",
    "invalid_time",
    "consent_needed",
    "withdrawn",
    "no_session",
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
