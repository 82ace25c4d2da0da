//! The public page "Mes données sont-elles dans la fuite ?" (French, maud: every value
//! escaped; no script, no inline style, no external resource: one stylesheet from this
//! listener). Answers are padded to one size per listener, like the JSON ones.

use maud::{html, Markup, DOCTYPE};

use crate::answers::{Exposure, ADVICE};

/// The stylesheet served at `/selfcheck.css`.
pub const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}\
label{display:block;margin-top:1rem;font-weight:600}input[type=text]{width:100%;padding:.5rem;font-size:1rem}\
fieldset{border:1px solid #ccc;margin-top:1rem}button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}\
.found{border-left:4px solid #b00020;padding-left:1rem}.none{border-left:4px solid #2e7d32;padding-left:1rem}\
.error{color:#b00020}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}";

fn layout(body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { "Mes données sont-elles dans la fuite ?" }
                link rel="stylesheet" href="/selfcheck.css";
            }
            body {
                h1 { "Mes données sont-elles dans la fuite ?" }
                (body)
            }
        }
    }
}

/// The form (with an error message about the input, if any).
pub fn form(error: Option<&str>) -> String {
    layout(html! {
        p { "Indiquez deux informations vous concernant. Elles ne sont ni enregistrées ni journalisées : elles servent seulement à vérifier si vous faites partie des personnes concernées par une violation de données que nous avons déclarée." }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/" {
            label for="identifier" { "Adresse électronique, numéro de mobile ou numéro de sécurité sociale" }
            input type="text" id="identifier" name="identifier" autocomplete="off" required;
            fieldset {
                legend { "Seconde information" }
                label { input type="radio" name="second_kind" value="birth_date" checked; " Date de naissance (JJ/MM/AAAA)" }
                label { input type="radio" name="second_kind" value="last_name"; " Nom de famille" }
            }
            label for="second" { "Valeur de la seconde information" }
            input type="text" id="second" name="second" autocomplete="off" required;
            button type="submit" { "Vérifier" }
        }
    })
    .into_string()
}

/// The answer page, padded with a trailing comment to `size` bytes (when it is smaller).
pub fn answer(exposures: &[Exposure], size: usize) -> String {
    let mut s = layout(html! {
        @if exposures.is_empty() {
            section.none {
                h2 { "Vos données ne figurent pas dans les fuites ouvertes à la vérification" }
                p { "Aucune personne ne correspond à ces deux informations ensemble. Si vous pensez avoir fait une erreur de saisie, vous pouvez réessayer plus tard." }
            }
        } @else {
            section.found {
                h2 { "Vos données figurent dans une fuite" }
                @for e in exposures {
                    h3 { "Incident découvert le " (e.date) }
                    p { "Vos données exposées : " (e.categories.join(", ")) "." }
                    @if !e.notice.is_empty() {
                        details { summary { "Notre information (article 34 du RGPD)" } pre { (e.notice) } }
                    }
                }
            }
        }
        h2 { "Que faire ?" }
        ul { @for a in ADVICE { li { (a) } } }
        p { a href="/" { "Nouvelle vérification" } }
    })
    .into_string();
    pad_html(&mut s, size);
    s
}

/// Append `<!-- … -->` so that `s` is `size` bytes long (unchanged when it is not shorter).
pub fn pad_html(s: &mut String, size: usize) {
    const FRAME: usize = "<!---->".len();
    if s.len() + FRAME <= size {
        let n = size - s.len() - FRAME;
        s.push_str("<!--");
        s.extend(std::iter::repeat_n(' ', n));
        s.push_str("-->");
    }
}
