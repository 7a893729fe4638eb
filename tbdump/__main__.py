"""Entry point of ``python -m tbdump``."""
from tbdump.command import quiet_interrupt


def main() -> None:
    # Ctrl-C while tbdump loads (its modules take a good part of its start-up), before the program
    # runs, ends it as Python ends a program on Ctrl-C, without tbdump's frames.
    with quiet_interrupt(last_line=True):
        from tbdump.runner import main as run
    run()


if __name__ == "__main__":
    main()
