"""Open a tbdump file in peepshow's interactive explorer (optional extra: pip install 'tbdump[peep]')."""
