//! Agent resolution around one hostile act, from the few words next to it: who does the act
//! (the subject word just before it), whether an AI entity just after it is its object rather
//! than its agent, and whether a hostile adjective is attached to an AI entity.
//!
//! English puts the subject before its verb and the object right after it. A word-window
//! scorer cannot tell "the robots kill the guards" from "the guards destroy the robots" or
//! "the evil Ratchet takes over" (Ratchet, not the robot named earlier, takes over); these
//! functions read at most a few dozen bytes around a hit, so they cost nothing per byte of
//! text. The word lists are closed-class grammar words (pronouns, auxiliaries, determiners),
//! not trope vocabulary, so they live here rather than in the lexicon.

/// What stands in the subject position just before a hostile act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Nothing usable: the act starts its clause, or the text before it is not a word.
    Unknown,
    /// `it`, `its`, `itself`: a pronoun that can stand for an AI named in an earlier
    /// sentence, and never for a person.
    ThingPronoun,
    /// `they`, `we`, `you`, `I` and their other forms: could be robots or a machine narrator
    /// as well as people, so it neither vetoes nor resolves.
    PersonPronoun,
    /// `he`, `she` and their other forms: a character, usually a person, though it can be an
    /// android ("He has to kill ..."). Vetoes only acts with no AI entity near.
    HeShe,
    /// `which`, `that`, `who`: the antecedent is the noun just before, in the same sentence.
    Relative,
    /// A capitalised word starting at this byte offset: a named character doing the act
    /// ("the evil Ratchet takes over", "Batou kills one"). Lower-case words are left
    /// `Unknown`: without a dictionary they may be adjectives of a noun-phrase act ("a
    /// larger threat to humanity") rather than subjects.
    Name(usize),
}

/// Words skipped when looking back for the subject: auxiliaries, modals, common adverbs,
/// the infinitive `to`, verbs of intent or attempt (`decides to kill`), and `from` (`stop it
/// from taking over`: `it` is the agent of the act).
const SKIPPED_BEFORE_ACT: &[&str] = &[
    "to",
    "from",
    "will",
    "would",
    "could",
    "can",
    "may",
    "might",
    "must",
    "shall",
    "should",
    "has",
    "have",
    "had",
    "is",
    "was",
    "are",
    "were",
    "be",
    "been",
    "being",
    "do",
    "does",
    "did",
    "then",
    "also",
    "soon",
    "eventually",
    "finally",
    "now",
    "still",
    "even",
    "just",
    "already",
    "quickly",
    "slowly",
    "secretly",
    "suddenly",
    "ultimately",
    "gradually",
    "systematically",
    "actually",
    "really",
    "later",
    "once",
    "again",
    "all",
    "both",
    "attempt",
    "attempts",
    "attempted",
    "attempting",
    "try",
    "tries",
    "tried",
    "trying",
    "decide",
    "decides",
    "decided",
    "plan",
    "plans",
    "planned",
    "planning",
    "want",
    "wants",
    "wanted",
    "begin",
    "begins",
    "began",
    "begun",
    "start",
    "starts",
    "started",
    "seek",
    "seeks",
    "sought",
    "intend",
    "intends",
    "intended",
    "going",
    "able",
    "about",
    "set",
    "sets",
    "out",
    "learns",
    "learned",
    "vows",
    "vowed",
    "threatens",
    "threatened",
    "determined",
    "bent",
    "on",
    "designed",
    "built",
    "made",
    "created",
    "programmed",
    "sent",
    "meant",
    "here",
    "there",
];

const THING_PRONOUNS: &[&str] = &["it", "its", "itself"];

const RELATIVE_PRONOUNS: &[&str] = &["which", "that", "who", "whom", "whose"];

const PERSON_PRONOUNS: &[&str] = &[
    "they",
    "them",
    "their",
    "themselves",
    "we",
    "you",
    "i",
    "us",
    "our",
    "your",
    "me",
    "my",
];

const HE_SHE: &[&str] = &[
    "he", "she", "him", "her", "his", "hers", "himself", "herself",
];

/// Words that may stand between a transitive act and its object: determiners, quantifiers and
/// possessives (`destroys a robotic geisha`, `manipulating the robots`). Any other word, and
/// any punctuation, means the entity is not the act's direct object.
const OBJECT_DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "its", "their", "his", "her", "our",
    "your", "my", "some", "all", "every", "each", "any", "one", "two", "three", "several", "many",
    "most", "another", "other", "more", "few", "both", "no",
];

/// Clause punctuation: a subject, object or attached adjective never lies across it.
fn is_clause_punct(c: u8) -> bool {
    matches!(
        c,
        b'.' | b'!' | b'?' | b';' | b':' | b',' | b'(' | b')' | b'[' | b']' | b'"' | b'|'
    )
}

/// Trims quotes and trailing possessive or contraction endings: `it's` and `it'll` -> `it`.
fn bare(word: &str) -> &str {
    let w = word.trim_matches(|c: char| matches!(c, '\'' | '’' | '‘' | '*' | '_'));
    for suffix in ["'s", "’s", "'ll", "’ll", "'d", "’d"] {
        if let Some(stem) = w.strip_suffix(suffix) {
            return stem;
        }
    }
    w
}

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Words before `at`, nearest first, each with its start offset; stops at clause punctuation,
/// a blank line, or after `max_words` words or 160 bytes (subjects sit next to their verb).
fn words_before(text: &str, at: usize, max_words: usize) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let floor = at.saturating_sub(160);
    let mut out = Vec::new();
    let mut i = at;
    while out.len() < max_words {
        while i > floor && b[i - 1].is_ascii_whitespace() {
            if b[i - 1] == b'\n' && i >= 2 && b[i - 2] == b'\n' {
                return out;
            }
            i -= 1;
        }
        if i <= floor || is_clause_punct(b[i - 1]) {
            return out;
        }
        let end = i;
        while i > floor && !b[i - 1].is_ascii_whitespace() && !is_clause_punct(b[i - 1]) {
            i -= 1;
        }
        if (i == floor && floor > 0) || !text.is_char_boundary(i) {
            // A word cut by the look-back limit.
            return out;
        }
        out.push((i, &text[i..end]));
    }
    out
}

/// The subject of the act starting at byte `at`: the first word before it, within its clause,
/// that is not an auxiliary, adverb or verb of intent. Looks back at most 6 words.
pub fn subject_before(text: &str, at: usize) -> Subject {
    for (start, word) in words_before(text, at, 6) {
        let w = bare(word);
        if w.is_empty() || is_one_of(w, SKIPPED_BEFORE_ACT) {
            continue;
        }
        if is_one_of(w, THING_PRONOUNS) {
            return Subject::ThingPronoun;
        }
        if is_one_of(w, PERSON_PRONOUNS) {
            return Subject::PersonPronoun;
        }
        if is_one_of(w, HE_SHE) {
            return Subject::HeShe;
        }
        if is_one_of(w, RELATIVE_PRONOUNS) {
            return Subject::Relative;
        }
        if w.starts_with(|c: char| c.is_uppercase()) && !is_one_of(w, OBJECT_DETERMINERS) {
            return Subject::Name(start);
        }
        // A conjunction ("... and seizes control") shares a subject stated earlier; a
        // determiner or adjective starts a noun-phrase act. Either way: not resolved here.
        return Subject::Unknown;
    }
    Subject::Unknown
}

/// True when the entity starting at `entity_start` is the direct object of the act ending at
/// `act_end`: at most `max_gap` words between them, all determiners, and no punctuation.
pub fn is_direct_object(text: &str, act_end: usize, entity_start: usize, max_gap: u32) -> bool {
    let Some(gap) = text.get(act_end..entity_start) else {
        return false;
    };
    if max_gap == 0 || gap.bytes().any(is_clause_punct) || gap.len() > 80 {
        return false;
    }
    let mut n = 0;
    for word in gap.split_whitespace() {
        n += 1;
        if n > max_gap || !is_one_of(bare(word), OBJECT_DETERMINERS) {
            return false;
        }
    }
    true
}

/// True when the hostile adjective `adj` (byte span) describes the entity `entity` (byte span):
/// the entity follows within `max_gap` words ("evil cyber-intelligence", "a murderous
/// self-aware robot") or precedes it within `max_gap` words as a predicate ("the AI is evil"),
/// with no clause punctuation between.
pub fn is_attached(text: &str, adj: (usize, usize), entity: (usize, usize), max_gap: u32) -> bool {
    let gap = if entity.0 >= adj.1 {
        text.get(adj.1..entity.0)
    } else if adj.0 >= entity.1 {
        text.get(entity.1..adj.0)
    } else {
        None
    };
    let Some(gap) = gap else { return false };
    gap.len() <= 80
        && !gap.bytes().any(is_clause_punct)
        && gap.split_whitespace().count() <= max_gap as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offset of `needle` in `text`.
    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).expect(needle)
    }

    fn subject(text: &str, act: &str) -> Subject {
        subject_before(text, at(text, act))
    }

    fn subject_word(text: &str, act: &str) -> String {
        match subject(text, act) {
            Subject::Name(s) => text[s..].split_whitespace().next().unwrap().to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn pronoun_subjects_through_auxiliaries_and_intent() {
        let t = "Only Jaz can stop it from controlling the world.";
        assert_eq!(subject(t, "controlling"), Subject::ThingPronoun);
        let t = "The network wakes up. It then decides to kill the crew.";
        assert_eq!(subject(t, "kill"), Subject::ThingPronoun);
        let t = "They will eventually wipe out humanity.";
        assert_eq!(
            subject(t, "wipe"),
            Subject::PersonPronoun,
            "they: people or machines"
        );
        let t = "It'll take over the world.";
        assert_eq!(subject(t, "take over"), Subject::ThingPronoun);
        let t = "He has to kill the boy.";
        assert_eq!(subject(t, "kill"), Subject::HeShe);
        let t = "She finally destroys the machine.";
        assert_eq!(subject(t, "destroys"), Subject::HeShe);
        let t = "We will all be killed.";
        assert_eq!(subject(t, "killed"), Subject::PersonPronoun);
    }

    #[test]
    fn explicit_subjects_are_words() {
        let t = "Rodney is a robot, until the evil Ratchet takes over the company.";
        assert_eq!(subject_word(t, "takes over"), "Ratchet");
        let t = "Batou kills one while Killian subdues the other.";
        assert_eq!(subject_word(t, "kills"), "Batou");
        let t = "The robots will kill everyone.";
        assert_eq!(
            subject(t, "kill"),
            Subject::Unknown,
            "lower-case nouns are not resolved"
        );
        let t = "The AI decides humans are the threat and seizes control.";
        assert_eq!(
            subject(t, "seizes"),
            Subject::Unknown,
            "a conjunction shares a subject"
        );
        let t = "which leads to a larger threat to humanity";
        assert_eq!(subject(t, "threat"), Subject::Unknown, "a noun-phrase act");
        let t = "A cyberterrorist attack which killed her parents.";
        assert_eq!(subject(t, "killed"), Subject::Relative);
    }

    #[test]
    fn clause_start_is_unknown_or_first_word() {
        assert_eq!(subject("Kill all humans.", "Kill"), Subject::Unknown);
        assert_eq!(
            subject("It was over. Destroy them.", "Destroy"),
            Subject::Unknown
        );
        assert_eq!(
            subject("The city burned, destroying", "destroying"),
            Subject::Unknown
        );
        assert_eq!(subject_word("Machines destroy", "destroy"), "Machines");
        assert_eq!(subject("The one to destroy", "destroy"), Subject::Unknown);
    }

    #[test]
    fn direct_objects() {
        let t = "Killian destroys a robotic geisha.";
        assert!(is_direct_object(
            t,
            at(t, " a robotic"),
            at(t, "robotic"),
            2
        ));
        let t = "He investigates the case of manipulating a robot.";
        assert!(is_direct_object(t, at(t, " a robot"), at(t, "robot"), 2));
        let t = "The survivors were hunted by the machines.";
        assert!(!is_direct_object(t, at(t, " by"), at(t, "machines"), 2));
        let t = "They destroy the city, the robots said.";
        assert!(!is_direct_object(t, at(t, " the city"), at(t, "robots"), 2));
        let t = "It will kill the crew and the robots.";
        assert!(!is_direct_object(t, at(t, " the crew"), at(t, "robots"), 2));
        let t = "kill robots";
        assert!(
            !is_direct_object(t, 4, 5, 0),
            "a gap of 0 words turns the rule off"
        );
    }

    #[test]
    fn attached_adjectives() {
        let t = "the elaborate deception of an evil cyber-intelligence.";
        let adj = (at(t, "evil"), at(t, "evil") + 4);
        let ent = (at(t, "cyber"), t.len() - 1);
        assert!(is_attached(t, adj, ent, 2));
        let t = "The AI is evil.";
        assert!(is_attached(t, (10, 14), (4, 6), 2));
        let t = "fighting cyborgs, doe-eyed schoolgirls, and sinister monsters";
        let adj = (at(t, "sinister"), at(t, "sinister") + 8);
        let ent = (at(t, "cyborgs"), at(t, "cyborgs") + 7);
        assert!(!is_attached(t, adj, ent, 2));
        let t = "an evil scientist builds a robot";
        let adj = (at(t, "evil"), at(t, "evil") + 4);
        let ent = (at(t, "robot"), t.len());
        assert!(!is_attached(t, adj, ent, 2));
    }
}
