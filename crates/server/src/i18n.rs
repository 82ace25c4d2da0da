//! The pages' words, French first: one table of (key, French, English).

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// `fr` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `en` is English; anything else French.
    pub fn parse(s: &str) -> Lang {
        if s == "en" {
            Lang::En
        } else {
            Lang::Fr
        }
    }
}

/// Every text of the pages: key, French, English.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("incidents", "Incidents", "Incidents"),
    ("new_incident", "Nouvel incident", "New incident"),
    ("users", "Comptes", "Accounts"),
    ("audit", "Journal d'audit", "Audit trail"),
    ("logout", "Se déconnecter", "Sign out"),
    ("sign_in", "Connexion", "Sign in"),
    ("user_name", "Identifiant", "User name"),
    ("password", "Mot de passe", "Password"),
    (
        "bad_login",
        "Identifiant ou mot de passe incorrect.",
        "Wrong user name or password.",
    ),
    (
        "locked",
        "Trop d'échecs : compte verrouillé pour 15 minutes.",
        "Too many failures: account locked for 15 minutes.",
    ),
    (
        "no_incident",
        "Aucun incident pour l'instant.",
        "No incident yet.",
    ),
    ("title", "Intitulé", "Title"),
    (
        "discovered_at",
        "Découverte (date et heure)",
        "Discovered (date and time)",
    ),
    ("verdict", "Verdict", "Verdict"),
    ("file", "Fichier fuité", "Leaked file"),
    ("organisation", "Organisme", "Organisation"),
    ("contact", "Contact (DPO)", "Contact (DPO)"),
    ("nature", "Nature de la violation", "Nature of the breach"),
    (
        "measures_taken",
        "Mesures prises (une par ligne)",
        "Measures taken (one per line)",
    ),
    (
        "measures_proposed",
        "Mesures envisagées (une par ligne)",
        "Measures proposed (one per line)",
    ),
    (
        "delay_reasons",
        "Motifs d'un retard de notification",
        "Reasons for a late notification",
    ),
    (
        "upload_analyse",
        "Déposer et analyser",
        "Upload and analyse",
    ),
    ("role", "Rôle", "Role"),
    ("created", "Créé le", "Created"),
    ("add_user", "Ajouter un compte", "Add an account"),
    ("chain_ok", "Chaîne intacte", "Chain intact"),
    ("chain_bad", "Chaîne rompue :", "Chain broken:"),
    ("when", "Quand", "When"),
    ("download", "télécharger", "download"),
    ("evidence", "Preuve", "Evidence"),
    (
        "evidence_hash",
        "Empreinte SHA-256 à réception",
        "SHA-256 on arrival",
    ),
    ("bytes", "octets", "bytes"),
    ("analysis", "Analyse", "Analysis"),
    ("rows", "lignes lues", "rows read"),
    ("cancel", "Annuler l'analyse", "Cancel the analysis"),
    ("rerun", "Relancer l'analyse", "Run the analysis again"),
    (
        "no_analysis",
        "Pas encore d'analyse terminée.",
        "No complete analysis yet.",
    ),
    ("attribution", "Attribution", "Attribution"),
    (
        "waterfall",
        "Preuves par candidat (log-vraisemblance, nats)",
        "Evidence per candidate (log-likelihood, nats)",
    ),
    ("extraction", "Fenêtre d'extraction", "Extraction window"),
    ("deadline", "Échéance CNIL (72 h)", "CNIL deadline (72 h)"),
    ("hours_left", "heures restantes", "hours left"),
    ("hours_late", "heures de retard", "hours late"),
    ("timeline", "Chronologie", "Timeline"),
    ("pending", "à faire", "pending"),
    ("mark", "Enregistrer", "Record"),
    (
        "drafts",
        "Projets (art. 33 et 34)",
        "Drafts (Art. 33 and 34)",
    ),
    ("report", "Rapport complet", "Full report"),
    (
        "affected",
        "Personnes concernées (CSV)",
        "Affected persons (CSV)",
    ),
    (
        "categories",
        "Personnes par catégorie de données",
        "Persons per data category",
    ),
    (
        "evidence_gone",
        "Fichier supprimé après analyse (seule l'empreinte est gardée).",
        "File removed after analysis (only its hash is kept).",
    ),
    ("discovered", "Découverte", "Discovered"),
    ("analysed", "Analysé", "Analysed"),
    ("cnil_notified", "CNIL notifiée", "CNIL notified"),
    (
        "persons_informed",
        "Personnes informées",
        "Persons informed",
    ),
];

/// The text of `key` in `lang` (the key itself when missing, which a test forbids).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match TEXTS.iter().find(|e| e.0 == key) {
        Some((_, fr, en)) => match lang {
            Lang::Fr => fr,
            Lang::En => en,
        },
        None => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once_with_both_languages() {
        for (i, (k, fr, en)) in TEXTS.iter().enumerate() {
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
            assert!(TEXTS[i + 1..].iter().all(|e| e.0 != *k), "duplicate {k}");
        }
        assert_eq!(t(Lang::Fr, "sign_in"), "Connexion");
        assert_eq!(t(Lang::En, "sign_in"), "Sign in");
        for s in crate::service::Step::ALL {
            assert_ne!(t(Lang::Fr, s.as_str()), "?", "{s:?}");
        }
    }
}
