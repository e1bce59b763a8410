"""Interface texts of the history interview pages, in English and Dutch.

The interview pages are shown in the interview's language (``HistoryInterview.language``,
by default the respondent's), since interviewer and respondent look at them together.
Every key exists in both languages (a test checks it); the language list is the
platform's (:data:`dyadlab.platform.i18n.LANGUAGES`). Labels of the fixed choices
(episode types, milestones, landmark kinds) are keys ``type_<value>``,
``milestone_<value>``, ``landmark_<value>``, ``gender_<value>`` and
``exclusivity_<value>``.

Examples
--------
>>> t = history_translator("nl")
>>> t("type_fwb"), t("probe_gap", start="2017-03", end="2018-06")
('Friends with benefits', 'Tussen 2017-03 en 2018-06 staat niets: wat gebeurde er toen?')
"""

from __future__ import annotations

from dataclasses import dataclass

from dyadlab.platform.i18n import LANGUAGES

__all__ = ["HISTORY_MESSAGES", "HistoryTranslator", "history_translator"]

HISTORY_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "History interview",
        "interviews": "History interviews",
        "respondent": "Respondent {person}",
        "start": "Start the interview",
        "open": "Open",
        "not_started": "not started",
        "started": "started",
        "birth": "Birth month (YYYY-MM)",
        "birth_hint": "Needed for ages and to check dates; e.g. 2003-05.",
        "language": "Language of the interview",
        "save_settings": "Save",
        "steps": "Steps of the interview",
        "step_landmarks": "1. Landmarks",
        "step_partners": "2. Partners",
        "step_episodes": "3. Episodes",
        "step_milestones": "4. Milestones",
        "step_timeline": "Timeline",
        "timeline_alone": "Show the timeline alone (to look at together)",
        "edit_log": "Edit log",
        "edit_at": "When (UTC)",
        "edit_by": "Who",
        "edit_what": "What",
        "edit_action": "Change",
        "edit_reason": "Why",
        "edit_changes": "Before → after",
        "action_create": "added",
        "action_update": "changed",
        "action_delete": "deleted",
        "err_required": "this field is required.",
        "err_choose": "choose one of the options.",
        "err_too_long": "at most {limit} characters.",
        "err_bad_text": "remove the invisible or broken characters.",
        "err_date": (
            "'{value}' cannot be read as a date; write e.g. 2019-03-15, 2019-03, "
            "summer 2019, 2019 or age 16."
        ),
        "err_age_birth": (
            "an age needs the respondent's birth month (at the top of the interview); or "
            "give a year."
        ),
        "err_future": "{value} is in the future.",
        "err_before_birth": "{value} is before the respondent was born.",
        "err_end_before_start": "{end} is before the start ({start}); check both dates.",
        "err_end_and_ongoing": "an ongoing episode has no end; clear one of them.",
        "err_no_end": "give an end, or tick 'Ongoing'.",
        "err_certainty": "give a whole number from 1 to 5.",
        "err_partner": "choose a partner from the roster.",
        "err_pseudonym_name": (
            "looks like a full name; use a pseudonym or initials (P1, J., the neighbour)."
        ),
        "err_pseudonym_contact": "looks like an e-mail address or phone number; use a pseudonym.",
        "err_reason": "say why this is changed (kept in the edit log).",
        "err_new_spell": "a change of type is a new spell: use 'Type changed'.",
        "err_same_type": "the spell is already of this type; choose the new type.",
        "err_outside": "{value} is outside this spell.",
        "err_birth": "write the birth month as YYYY-MM, e.g. 2003-05.",
        "err_birth_needed": "episodes are dated by age, so the birth month is needed.",
        "err_contacts": "'{value}' is not a number from 0 to {most}.",
        "step_tlfb": "5. Calendar of the last days",
        "tlfb_title": "Calendar of the last {days} days",
        "tlfb_help": (
            "Day by day, the number of times the respondent had sex with each partner "
            "(empty or 0: none). The episodes running that day are shown as anchors."
        ),
        "tlfb_days": "Days",
        "tlfb_day": "Day",
        "tlfb_other": "Someone else",
        "tlfb_running": "Running",
        "tlfb_save": "Save the calendar",
        "tlfb_cell": "{partner}, {day}",
        "tlfb_saved": "Saved.",
        "tlfb_back": "Back to the interview",
        "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
        "landmarks_help": (
            "Start with what is easy to remember: school years, moves, jobs. They help to "
            "place the rest."
        ),
        "partners_help": (
            "Everyone the respondent had romantic or sexual contact with. Use a pseudonym "
            "or initials (P1, J., the neighbour), never a name."
        ),
        "episodes_help": (
            "Per partner, each period of one kind. When the kind changed (dating became a "
            "relationship), use 'Type changed': that starts a new spell."
        ),
        "milestones_help": "Firsts and turning points, with a partner or without.",
        "when_hint": "e.g. 2019-03-15, 2019-03, summer 2019, 2019 or age 16",
        "kind": "Kind",
        "label": "Description",
        "start_date": "From",
        "end_date": "Until",
        "ongoing": "Ongoing",
        "pseudonym": "Pseudonym",
        "gender": "Gender (optional)",
        "partner": "Partner",
        "no_partner": "no partner",
        "type": "Type",
        "certainty": "Certainty of the dates (1 = a guess, 5 = sure)",
        "exclusivity": "Exclusivity",
        "cohabitation": "Living together",
        "yes": "yes",
        "no": "no",
        "unknown": "not asked",
        "notes": "Notes",
        "when": "When",
        "reason": "Reason for the change (kept in the edit log)",
        "reason_optional": "Remark (optional)",
        "add": "Add",
        "add_landmark": "Add a landmark",
        "add_partner": "Add a partner",
        "add_episode": "Add an episode with {partner}",
        "add_milestone": "Add a milestone",
        "edit": "Edit",
        "save": "Save the change",
        "delete": "Delete",
        "delete_confirm": "Delete (the reason is required)",
        "type_changed": "Type changed",
        "new_type": "New type",
        "changed_when": "Changed when",
        "start_new_spell": "End this spell and start the new one",
        "none_yet": "None yet.",
        "episodes_of": "Episodes with {partner}",
        "spell_of": "continues spell {n}",
        "to_now": "now",
        "probes": "To ask about",
        "no_probes": "Nothing to ask about at the moment.",
        "probe_young": "Age {age} at {what}: is that right?",
        "probe_gap": "Between {start} and {end} there is nothing: what happened then?",
        "probe_overlap": "{a} and {b} overlap: were they at the same time?",
        "probe_same_partner_overlap": (
            "{a} and {b} with the same partner overlap: did one become the other "
            "(use 'Type changed')?"
        ),
        "probe_milestone_outside": "{what} is outside every episode with that partner.",
        "timeline_title": "Timeline of respondent {person}",
        "timeline_desc": (
            "One row per partner, episodes as bars from start to end, milestones as "
            "diamonds, landmarks on the top row. The same information is in the tables "
            "below."
        ),
        "landmarks_row": "Landmarks",
        "problem": "There is a problem",
        "edits": "{n} changes recorded in the edit log.",
        "back": "Back to the study",
        "all_interviews": "All interviews",
        "couple": "Couple",
        "person": "Person",
        "role": "Role",
        "status": "Status",
        "interview": "Interview",
        "type_romantic": "Relationship",
        "type_dating": "Dating",
        "type_fwb": "Friends with benefits",
        "type_casual": "Casual",
        "type_one_time": "One time",
        "type_online": "Online only",
        "type_other": "Other",
        "landmark_school": "School year",
        "landmark_move": "Move",
        "landmark_job": "Job",
        "landmark_other": "Other",
        "milestone_first_kiss": "First kiss",
        "milestone_first_petting": "First petting",
        "milestone_first_oral_sex": "First oral sex",
        "milestone_first_intercourse": "First intercourse",
        "milestone_first_anal_sex": "First anal sex",
        "milestone_first_sexting": "First sexting",
        "milestone_said_i_love_you": "First 'I love you'",
        "milestone_moving_in": "Moving in together",
        "milestone_engagement": "Engagement",
        "milestone_break_up": "Break-up",
        "milestone_other": "Other",
        "gender_woman": "woman",
        "gender_man": "man",
        "gender_non_binary": "non-binary",
        "gender_other": "other",
        "exclusivity_exclusive": "exclusive",
        "exclusivity_open": "open",
        "exclusivity_unclear": "unclear",
    },
    "nl": {
        "title": "Relatiegeschiedenis-interview",
        "interviews": "Relatiegeschiedenis-interviews",
        "respondent": "Respondent {person}",
        "start": "Interview beginnen",
        "open": "Openen",
        "not_started": "niet begonnen",
        "started": "begonnen",
        "birth": "Geboortemaand (JJJJ-MM)",
        "birth_hint": "Nodig voor leeftijden en om data te controleren; bijv. 2003-05.",
        "language": "Taal van het interview",
        "save_settings": "Opslaan",
        "steps": "Stappen van het interview",
        "step_landmarks": "1. Ijkpunten",
        "step_partners": "2. Partners",
        "step_episodes": "3. Periodes",
        "step_milestones": "4. Mijlpalen",
        "step_timeline": "Tijdlijn",
        "timeline_alone": "Alleen de tijdlijn tonen (om samen te bekijken)",
        "edit_log": "Wijzigingslog",
        "edit_at": "Wanneer (UTC)",
        "edit_by": "Wie",
        "edit_what": "Wat",
        "edit_action": "Wijziging",
        "edit_reason": "Waarom",
        "edit_changes": "Voor → na",
        "action_create": "toegevoegd",
        "action_update": "gewijzigd",
        "action_delete": "verwijderd",
        "err_required": "dit veld is verplicht.",
        "err_choose": "kies een van de mogelijkheden.",
        "err_too_long": "hoogstens {limit} tekens.",
        "err_bad_text": "verwijder de onzichtbare of kapotte tekens.",
        "err_date": (
            "'{value}' is niet als datum te lezen; schrijf bijv. 2019-03-15, 2019-03, "
            "zomer 2019, 2019 of 16 jaar."
        ),
        "err_age_birth": (
            "een leeftijd vraagt om de geboortemaand van de respondent (bovenaan het "
            "interview); of geef een jaar."
        ),
        "err_future": "{value} ligt in de toekomst.",
        "err_before_birth": "{value} is vóór de geboorte van de respondent.",
        "err_end_before_start": "{end} is vóór het begin ({start}); controleer beide data.",
        "err_end_and_ongoing": "een periode die nog loopt heeft geen einde; wis een van beide.",
        "err_no_end": "vul een einde in, of vink 'Loopt nog' aan.",
        "err_certainty": "geef een heel getal van 1 tot en met 5.",
        "err_partner": "kies een partner uit de lijst.",
        "err_pseudonym_name": (
            "lijkt op een volledige naam; gebruik een schuilnaam of initialen (P1, J., de buurman)."
        ),
        "err_pseudonym_contact": (
            "lijkt op een e-mailadres of telefoonnummer; gebruik een schuilnaam."
        ),
        "err_reason": "geef aan waarom dit verandert (bewaard in het wijzigingslog).",
        "err_new_spell": "een andere soort is een nieuwe periode: kies 'Soort veranderd'.",
        "err_same_type": "de periode is al van deze soort; kies de nieuwe soort.",
        "err_outside": "{value} valt buiten deze periode.",
        "err_birth": "schrijf de geboortemaand als JJJJ-MM, bijv. 2003-05.",
        "err_birth_needed": (
            "periodes zijn met leeftijden gedateerd, dus de geboortemaand is nodig."
        ),
        "err_contacts": "'{value}' is geen getal van 0 tot en met {most}.",
        "step_tlfb": "5. Kalender van de laatste dagen",
        "tlfb_title": "Kalender van de laatste {days} dagen",
        "tlfb_help": (
            "Dag voor dag hoe vaak de respondent seks had met elke partner (leeg of 0: "
            "niet). De periodes die die dag liepen staan erbij als ijkpunt."
        ),
        "tlfb_days": "Dagen",
        "tlfb_day": "Dag",
        "tlfb_other": "Iemand anders",
        "tlfb_running": "Loopt",
        "tlfb_save": "Kalender opslaan",
        "tlfb_cell": "{partner}, {day}",
        "tlfb_saved": "Opgeslagen.",
        "tlfb_back": "Terug naar het interview",
        "weekdays": "ma di wo do vr za zo",
        "landmarks_help": (
            "Begin met wat makkelijk te herinneren is: schooljaren, verhuizingen, banen. "
            "Ze helpen de rest te plaatsen."
        ),
        "partners_help": (
            "Iedereen met wie de respondent romantisch of seksueel contact had. Gebruik een "
            "schuilnaam of initialen (P1, J., de buurman), nooit een naam."
        ),
        "episodes_help": (
            "Per partner elke periode van één soort. Als de soort veranderde (daten werd "
            "een relatie), kies 'Soort veranderd': dat begint een nieuwe periode."
        ),
        "milestones_help": "Eerste keren en keerpunten, met of zonder partner.",
        "when_hint": "bijv. 2019-03-15, 2019-03, zomer 2019, 2019 of 16 jaar",
        "kind": "Soort",
        "label": "Omschrijving",
        "start_date": "Vanaf",
        "end_date": "Tot",
        "ongoing": "Loopt nog",
        "pseudonym": "Schuilnaam",
        "gender": "Gender (niet verplicht)",
        "partner": "Partner",
        "no_partner": "geen partner",
        "type": "Soort",
        "certainty": "Zekerheid van de data (1 = een gok, 5 = zeker)",
        "exclusivity": "Exclusiviteit",
        "cohabitation": "Samenwonend",
        "yes": "ja",
        "no": "nee",
        "unknown": "niet gevraagd",
        "notes": "Aantekeningen",
        "when": "Wanneer",
        "reason": "Reden van de wijziging (bewaard in het wijzigingslog)",
        "reason_optional": "Opmerking (niet verplicht)",
        "add": "Toevoegen",
        "add_landmark": "Ijkpunt toevoegen",
        "add_partner": "Partner toevoegen",
        "add_episode": "Periode met {partner} toevoegen",
        "add_milestone": "Mijlpaal toevoegen",
        "edit": "Wijzigen",
        "save": "Wijziging opslaan",
        "delete": "Verwijderen",
        "delete_confirm": "Verwijderen (reden verplicht)",
        "type_changed": "Soort veranderd",
        "new_type": "Nieuwe soort",
        "changed_when": "Veranderd op",
        "start_new_spell": "Deze periode beëindigen en de nieuwe beginnen",
        "none_yet": "Nog niets.",
        "episodes_of": "Periodes met {partner}",
        "spell_of": "vervolg van periode {n}",
        "to_now": "nu",
        "probes": "Om naar te vragen",
        "no_probes": "Op dit moment is er niets om naar te vragen.",
        "probe_young": "Leeftijd {age} bij {what}: klopt dat?",
        "probe_gap": "Tussen {start} en {end} staat niets: wat gebeurde er toen?",
        "probe_overlap": "{a} en {b} overlappen: was dat tegelijk?",
        "probe_same_partner_overlap": (
            "{a} en {b} met dezelfde partner overlappen: ging de ene over in de andere "
            "(kies 'Soort veranderd')?"
        ),
        "probe_milestone_outside": "{what} valt buiten elke periode met die partner.",
        "timeline_title": "Tijdlijn van respondent {person}",
        "timeline_desc": (
            "Eén rij per partner, periodes als balken van begin tot eind, mijlpalen als "
            "ruiten, ijkpunten op de bovenste rij. Dezelfde gegevens staan in de tabellen "
            "hieronder."
        ),
        "landmarks_row": "Ijkpunten",
        "problem": "Er is een probleem",
        "edits": "{n} wijzigingen vastgelegd in het wijzigingslog.",
        "back": "Terug naar het onderzoek",
        "all_interviews": "Alle interviews",
        "couple": "Stel",
        "person": "Persoon",
        "role": "Rol",
        "status": "Status",
        "interview": "Interview",
        "type_romantic": "Relatie",
        "type_dating": "Daten",
        "type_fwb": "Friends with benefits",
        "type_casual": "Los contact",
        "type_one_time": "Eenmalig",
        "type_online": "Alleen online",
        "type_other": "Anders",
        "landmark_school": "Schooljaar",
        "landmark_move": "Verhuizing",
        "landmark_job": "Baan",
        "landmark_other": "Anders",
        "milestone_first_kiss": "Eerste zoen",
        "milestone_first_petting": "Eerste keer vrijen zonder seks",
        "milestone_first_oral_sex": "Eerste orale seks",
        "milestone_first_intercourse": "Eerste geslachtsgemeenschap",
        "milestone_first_anal_sex": "Eerste anale seks",
        "milestone_first_sexting": "Eerste sexting",
        "milestone_said_i_love_you": "Eerste 'ik hou van je'",
        "milestone_moving_in": "Gaan samenwonen",
        "milestone_engagement": "Verloving",
        "milestone_break_up": "Uit elkaar",
        "milestone_other": "Anders",
        "gender_woman": "vrouw",
        "gender_man": "man",
        "gender_non_binary": "non-binair",
        "gender_other": "anders",
        "exclusivity_exclusive": "exclusief",
        "exclusivity_open": "open",
        "exclusivity_unclear": "onduidelijk",
    },
}


@dataclass(frozen=True)
class HistoryTranslator:
    """``t(key, **values)`` in one language (passed to the history templates as ``t``)."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        text = HISTORY_MESSAGES[self.language][key]
        return text.format(**values) if values else text


def history_translator(language: str | None) -> HistoryTranslator:
    """A :class:`HistoryTranslator` for ``language`` (English if it is not offered)."""
    lang = language if language in LANGUAGES and language in HISTORY_MESSAGES else "en"
    return HistoryTranslator(lang)
