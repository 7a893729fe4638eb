"""Entry point of ``python -m tbdump``."""
from tbdump.runner import main

if __name__ == "__main__":
    main()
