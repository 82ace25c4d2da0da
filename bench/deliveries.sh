# Sourced by the bench scripts: enrol the generator's five deliveries to their recipients.
# Usage: enroll_deliveries DATA CMD...   (CMD: a leaktrace enrol command with its flags, e.g.
# `target/release/leaktrace enroll --quiet`; DATA: the generator's output directory)
enroll_deliveries() {
  local data=$1
  shift
  "$@" --source provider_docs --recipient "Prestataire Docs" --as-of 2022-03-05 "$data/extracts/provider_docs_2022-02.csv"
  "$@" --source app_backend --recipient "App mobile" --as-of 2023-06-15 "$data/extracts/app_users_2023-06-15.jsonl"
  "$@" --source training_partner --recipient "Formation ARA" --as-of 2024-01-10 "$data/extracts/formation_ara_2024.xlsx"
  "$@" --source website --recipient "Site partenaire" --as-of 2024-03-01 "$data/extracts/website_accounts_2024-03-01.tsv"
  "$@" --source website --recipient "Site partenaire" --as-of 2025-09-01 "$data/extracts/website_accounts_2025-09-01.tsv"
}
