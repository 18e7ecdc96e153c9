"""ROBUST-INPUT's generated requests: what is generated (`strategies`, Hypothesis strategies of
wire-valid raw requests) apart from how it is sent, judged and shrunk (`campaign`)."""
