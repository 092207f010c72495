"""release-diff: review a release as three diffs (spec, generated/, facade API) and a bump.

Modules, one job each: `gitio` (reading refs, worktrees), `spec_rules` (OpenAPI rules after
oasdiff), `xsd_rules` (XSD rules), `generated` (generated/ summary and regeneration check),
`api_diff` (griffe public-API diff), `old_tests` (OLD's facade tests against NEW), `bump`
(semver suggestion and changelog entry), `report` (text and Markdown), `cli` (the command).
"""
