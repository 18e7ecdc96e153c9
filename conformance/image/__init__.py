"""The image under test as data: its config (`config.ImageInfo`) and what a vulnerability scanner
says of it (`vulns`). No container here."""
