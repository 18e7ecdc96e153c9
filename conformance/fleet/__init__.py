"""Many images: `agent-conformance batch` and `agent-conformance summarize`.

They sit above the command, never inside a run: a batch starts each image's run as a subprocess
(`agent-conformance IMAGE --certify DIR …`) and reads the bundle it leaves; a summary reads
bundles made anywhere (this host, CI jobs, Kubernetes pods). Nothing here imports the plugin, the
checks or the candidate layer (an import-linter contract in pyproject.toml says so).

    plan        the list of images (lines or TOML) and each image's bundle folder
    bundles     finding, verifying and reading bundles
    engine      the two engine calls a batch makes itself: image IDs, a killed run's leftovers
    runner      one image's run as a subprocess, capped in time, its process group killed
    batch       the scheduler: N runs at once, resume, progress, exit status
    summary     bundles → summary.json and summary.md;  summary_html → index.html
    kubernetes  `batch --emit kubernetes`: an Indexed Job and a summarize Job;  yamlish → YAML
    command     the two subcommands' arguments
"""
