//! The Art. 34 notice to the persons, in French or English, built from the categories it is
//! given: every category of the incident for the draft (`art34_fr.md`), one person's own
//! categories for a notification campaign (`leaktrace notify`, crates/campaign).

use std::fmt::Write as _;

use leaktrace_pii::ColumnType;

use crate::category_label;

/// The language of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French (the default: the organisation and the persons are French).
    #[default]
    Fr,
    /// English.
    En,
}

/// What an Art. 34 notice says.
#[derive(Debug, Clone)]
pub struct Art34<'a> {
    /// The controller, as the notice quotes it (the caller escapes it for its medium).
    pub organisation: &'a str,
    /// The contact point (DPO), quoted like `organisation`.
    pub contact: &'a str,
    /// The data categories exposed (`person_id` is not one and is left out).
    pub categories: &'a [ColumnType],
    /// The file assembles fragments of different persons.
    pub recombined: bool,
    /// The measures taken, one per item (quoted like `organisation`); `None`: a default text.
    pub measures_taken: Option<&'a [String]>,
}

/// The notice's title (the e-mail subject of a campaign).
pub fn art34_title(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Information sur une violation de vos données personnelles",
        Lang::En => "Information about a breach of your personal data",
    }
}

/// The categories' labels in `lang`, in the given order, each once.
pub fn category_labels(categories: &[ColumnType], lang: Lang) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for t in categories.iter().filter(|t| **t != ColumnType::PersonId) {
        let (fr, en) = category_label(*t);
        let l = if lang == Lang::Fr { fr } else { en };
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// The notice in Markdown (which also reads as plain text): title, what data, what to do,
/// what the organisation does, whom to contact.
pub fn art34_text(n: &Art34, lang: Lang) -> String {
    let t = texts(lang);
    let has = |ty: ColumnType| n.categories.contains(&ty);
    let cats = category_labels(n.categories, lang);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", art34_title(lang));
    let _ = writeln!(s, "{}\n", t.salutation);
    let _ = writeln!(s, "{}\n", t.found.replace("{org}", n.organisation));
    let _ = writeln!(s, "## {}\n", t.what_data);
    let _ = writeln!(s, "{}{}.\n", t.data_are, cats.join(", "));
    if n.recombined {
        let _ = writeln!(s, "{}\n", t.recombined);
    }
    let _ = writeln!(s, "{}\n", t.no_password);
    let _ = writeln!(s, "## {}\n", t.what_to_do);
    let _ = writeln!(s, "- {}", t.beware.replace("{org}", n.organisation));
    let _ = writeln!(s, "- {}", t.no_links);
    if has(ColumnType::Phone) {
        let _ = writeln!(s, "- {}", t.phone);
    }
    if has(ColumnType::Nir) {
        let _ = writeln!(s, "- {}", t.nir);
    }
    let _ = writeln!(s, "- {}\n", t.report);
    let _ = writeln!(s, "## {}\n", t.what_we_do);
    match n.measures_taken {
        Some(v) if !v.is_empty() => v.iter().for_each(|m| {
            let _ = writeln!(s, "- {m}");
        }),
        _ => {
            let _ = writeln!(s, "- {}", t.default_measures);
        }
    }
    let _ = writeln!(s, "\n## {}\n", t.contact_us);
    let _ = writeln!(s, "{}{}.", t.contact_is, n.contact);
    s
}

/// The sentences of a notice in one language.
struct Texts {
    salutation: &'static str,
    found: &'static str,
    what_data: &'static str,
    data_are: &'static str,
    recombined: &'static str,
    no_password: &'static str,
    what_to_do: &'static str,
    beware: &'static str,
    no_links: &'static str,
    phone: &'static str,
    nir: &'static str,
    report: &'static str,
    what_we_do: &'static str,
    default_measures: &'static str,
    contact_us: &'static str,
    contact_is: &'static str,
}

const FR: Texts = Texts {
    salutation: "Madame, Monsieur,",
    found: "Nous avons découvert qu'un fichier contenant des données personnelles de personnes \
            inscrites auprès de {org} circule hors de nos systèmes. Vos données en font partie.",
    what_data: "Quelles données ?",
    data_are: "Les données concernées sont : ",
    recombined: "Ce fichier est un montage qui associe des données de personnes différentes : il \
                 peut ne contenir que certaines de vos données (par exemple votre adresse \
                 électronique ou votre téléphone, sans votre nom).",
    no_password:
        "Aucun mot de passe ni aucune coordonnée bancaire ne figure dans ce fichier, sauf \
                  mention contraire ci-dessus.",
    what_to_do: "Ce que vous pouvez faire",
    beware: "Méfiez-vous des messages (courriel, SMS, appel) qui se présentent comme venant de \
             {org} ou d'un organisme public et vous demandent des informations : nous ne vous \
             demanderons jamais votre mot de passe ni vos coordonnées bancaires par message ou par \
             téléphone.",
    no_links:
        "Ne cliquez pas sur les liens d'un message inattendu ; connectez-vous à votre espace \
               en tapant vous-même l'adresse du site.",
    phone: "En cas d'appel suspect, raccrochez et rappelez le numéro officiel.",
    nir: "Votre numéro de sécurité sociale figure dans le fichier : surveillez vos relevés \
          (ameli, caisse de retraite) et signalez toute démarche que vous n'avez pas faite.",
    report: "Vous pouvez signaler un message frauduleux sur cybermalveillance.gouv.fr et déposer \
             plainte en cas de préjudice.",
    what_we_do: "Ce que nous faisons",
    default_measures:
        "Nous avons analysé le fichier, identifié les personnes concernées et informé la CNIL.",
    contact_us: "Nous contacter",
    contact_is: "Pour toute question ou pour exercer vos droits : ",
};

const EN: Texts = Texts {
    salutation: "Dear Sir or Madam,",
    found: "We have discovered that a file holding personal data of persons registered with \
            {org} is circulating outside our systems. Your data is part of it.",
    what_data: "What data?",
    data_are: "The data concerned: ",
    recombined: "This file is a montage combining data of different persons: it may hold only \
                 some of your data (for example your e-mail address or phone number, without your \
                 name).",
    no_password: "No password and no bank details are in this file, unless stated above.",
    what_to_do: "What you can do",
    beware: "Be wary of messages (e-mail, text, call) claiming to come from {org} or a public \
             body and asking you for information: we will never ask for your password or bank \
             details by message or phone.",
    no_links: "Do not click links in an unexpected message; reach your account by typing the \
               site's address yourself.",
    phone: "If a call seems suspicious, hang up and call the official number back.",
    nir: "Your social security number is in the file: watch your statements (ameli, pension \
          fund) and report any procedure you did not start.",
    report: "You can report a fraudulent message on cybermalveillance.gouv.fr and file a \
             complaint if you suffer harm.",
    what_we_do: "What we are doing",
    default_measures:
        "We have analysed the file, identified the persons concerned and informed the CNIL.",
    contact_us: "Contact us",
    contact_is: "For any question or to exercise your rights: ",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_follows_the_categories() {
        let n = |cats: &'static [ColumnType]| Art34 {
            organisation: "Org",
            contact: "dpo",
            categories: cats,
            recombined: false,
            measures_taken: None,
        };
        let s = art34_text(&n(&[ColumnType::Email, ColumnType::PersonId]), Lang::Fr);
        assert!(
            s.contains("Les données concernées sont : adresse électronique.\n"),
            "{s}"
        );
        assert!(
            !s.contains("sécurité sociale") && !s.contains("raccrochez"),
            "{s}"
        );
        let s = art34_text(&n(&[ColumnType::Nir, ColumnType::Phone]), Lang::En);
        assert!(
            s.contains("social security number (NIR), phone number."),
            "{s}"
        );
        assert!(
            s.contains("hang up") && s.contains("watch your statements"),
            "{s}"
        );
        assert!(s.starts_with("# Information about a breach"), "{s}");
    }
}
