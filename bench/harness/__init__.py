"""How the benchmark measures: timing, the machine, a real server and its client, the
reference composition and its media, the measure type, and the one report writer."""
