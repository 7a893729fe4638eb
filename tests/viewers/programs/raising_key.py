"""A crash holding a dict whose key's __hash__ raises the exception named by argv[1]
(KeyboardInterrupt, SystemExit) where the dump is restored, which unpickling the dict runs;
in the crashed process it hashes as any key."""
import os
import sys

BORN_IN = os.getpid()
RAISES = sys.argv[1]


class Key:
    def __hash__(self):
        if os.getpid() != BORN_IN:
            raise {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit}[RAISES]
        return 1


def work(keyed):
    plain = [1, 2, 3]
    return 1 / 0


work({Key(): "value"})
