"""Open a tbdump file in peepshow's interactive explorer (peepshow is optional: pip install peepshow==0.3.0)."""
