"""Results per requirement ID, the verdict, and every form the report takes: the JSON document,
Markdown, the terminal table, the reproductions, JUnit XML and the certification bundle. No
Docker and no HTTP here: the report is written from data, also when nothing could run."""
