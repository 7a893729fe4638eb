"""Reading on past an object record that failed to load.

Records share one unpickler's memo (docs/FORMAT.md), so a record whose unpickling raised
leaves out memo entries that the records after it refer to.  Such a record is read again
here by a tolerant Python unpickler, from the memo as it stood before the record:

- an insertion into a dict or set that raises (a key whose ``__hash__`` reads an attribute
  its state sets later in the record: a cycle of such objects, pickle's classic limit)
  waits until the record's other opcodes are done and is tried again then, in order
  (one that a container's own class refuses, its key hashable, loses that container);
- any other failing step becomes a placeholder for the value it builds.

The shared unpickler then reads on with the memo so completed.  Nothing here runs for a
record that loads, but ``memo_before`` for one whose loading a Ctrl-C cut short, which the
shared unpickler reads again from its start with the memo the records before it made.
"""
from __future__ import annotations

import pickle
import pickletools
import struct
from itertools import repeat
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Set, Tuple

from .objects import _become_placeholder, _HandOver
from .placeholder import Placeholder, is_placeholder
from .preview import qualified_class, qualified_type
from .saferepr import describe_exception

if TYPE_CHECKING:
    from .objects import RecordReader

# pickle's own unpickler in Python, whose steps can be taken one by one (typeshed leaves it out).
_PythonUnpickler: Any = getattr(pickle, "_Unpickler")

_IN_SET = object()   # the value of an insertion into a set
# What a value's own code raises as it is rebuilt (a key's __eq__ may raise SystemExit or
# KeyboardInterrupt): a step's failure, as any error.  A real Ctrl-C meanwhile stops the
# restoring all the same: RecordReader._read_on raises it once the reading is done.
_FAILS = (Exception, SystemExit, KeyboardInterrupt)
_MEMOIZE, _PUT, _STOP = pickle.MEMOIZE[0], pickle.PUT[0], pickle.STOP[0]
_PUTS = frozenset((_PUT, pickle.BINPUT[0], pickle.LONG_BINPUT[0]))
_ENTRY = struct.Struct("<4sIc")   # of memo_hand_over


def reread(reader: "RecordReader", number: int, memo: Dict[int, Any]) -> Tuple[Any, Dict[int, Any], bool]:
    """Record ``number`` read again, given the memo of the unpickler it failed in: its value,
    the memo the records after it expect, and whether a stand-in was made for a missing class.
    Raises when the record cannot be read even so (damaged, say)."""
    earlier = memo_before(reader, number, memo)
    _at_record(reader, number)
    rereading = _Rereading(reader, earlier)
    value = rereading.load()
    return value, rereading.memo, rereading.stood_in


def memo_before(reader: "RecordReader", number: int, memo: Dict[int, Any]) -> Dict[int, Any]:
    """The entries of ``memo``, an unpickler's that read record ``number`` or a part of it, that
    the records before it made: what reading it from its start needs.  Raises when one is missing."""
    before = _keys_before(reader, number)
    if not before <= memo.keys():
        raise pickle.UnpicklingError("the records before it made other memo entries")
    return {key: memo[key] for key in before}


def memo_hand_over(memo: Dict[int, Any]) -> Tuple[bytes, Callable[[], Any]]:
    """What a fresh shared unpickler reads first to hold ``memo`` (it loads as None), and the
    object to hand it: pickle's ``Unpickler.memo`` setter cannot do it (Python 3.8 to 3.13
    drop a dict's entries, and number the next entries from 0 after another's memo: CPython
    issue gh-111066)."""
    keys = sorted(memo)
    take = iter([memo[key] for key in keys]).__next__
    # Each entry: DUP the handed callable, call it (EMPTY_TUPLE, REDUCE), LONG_BINPUT, POP.
    # All in one FRAME, which the unpickler reads at once (opcode by opcode, the reading
    # of a long pending pickle would copy its rest at each read).
    # Made without a Python step per entry: a record that fails hands the whole memo over.
    body = b"K\x00Q" + b"".join(map(_ENTRY.pack, repeat(b"2)Rr"), keys, repeat(b"0"))) + b"0N."
    return b"\x80\x05\x95" + struct.pack("<Q", len(body)) + body, take


def _at_record(reader: "RecordReader", number: int) -> int:
    """The reader's stream moved to record ``number``; its length.  What is read of it then
    counts as read (RecordReader.read_bytes): a viewer sees this reading go on."""
    offset, length, _, _ = reader.index.entry(number)
    reader.stream.seek(reader.base + offset)
    return length


def _keys_before(reader: "RecordReader", number: int) -> Set[int]:
    """The memo keys the records before ``number`` made, back to the one that starts a fresh memo.
    Counted on from where the count for the last failed record stopped (``reader.memo_keys``): a
    dump whose every frame holds a value that fails was walked from its start for each of them."""
    upto, keys = reader.memo_keys
    if number < upto:
        upto, keys = 0, set()
    first = number
    while first > upto and not reader.index.entry(first)[2]:
        first -= 1
    if first > upto:   # a fresh record since
        keys = set()
    reader.memo_keys = (first, keys)
    try:
        for record in range(first, number):
            if reader.index.entry(record)[3]:
                keys.add(len(keys))   # an alone record makes one memo entry, its value (FORMAT.md)
            else:
                _add_memo_keys(reader.stream.read(_at_record(reader, record)), keys)
            reader.memo_keys = (record + 1, keys)
    except BaseException:
        reader.memo_keys = (0, set())   # a record counted in part
        raise
    return keys


# Each opcode's argument as pickletools lays it out: n >= 0 bytes, a line (UP_TO_NEWLINE),
# two for a module and name (GLOBAL, INST), or bytes counted by a 1, 4 or 8 byte prefix.
_LINE, _TWO_LINES = pickletools.UP_TO_NEWLINE, -100
_ARGUMENTS = {op.code.encode("latin-1")[0]: 0 if op.arg is None else
              _TWO_LINES if op.arg.name == "stringnl_noescape_pair" else op.arg.n for op in pickletools.opcodes}
_PREFIXES = {pickletools.TAKEN_FROM_ARGUMENT1: 1, pickletools.TAKEN_FROM_ARGUMENT4: 4,
             pickletools.TAKEN_FROM_ARGUMENT4U: 4, pickletools.TAKEN_FROM_ARGUMENT8U: 8}


def _add_memo_keys(data: bytes, keys: Set[int]) -> None:
    """Add the memo keys a record's MEMOIZE and PUT opcodes make to ``keys``.  pickletools.genops
    does the same walk, decoding every argument: ten times slower on the records of a big dump."""
    at = 0
    while True:
        code = data[at]   # past the end (no STOP): IndexError, a damaged record
        start = at = at + 1
        size = _ARGUMENTS[code]   # KeyError: not an opcode, a damaged record
        if size >= 0:
            at += size
        elif size == _LINE:
            at = data.index(b"\n", at) + 1
        elif size == _TWO_LINES:
            at = data.index(b"\n", data.index(b"\n", at) + 1) + 1
        else:
            prefix = _PREFIXES[size]
            at += prefix + int.from_bytes(data[at:at + prefix], "little")
        if code == _MEMOIZE:
            keys.add(len(keys))
        elif code in _PUTS:
            keys.add(int(data[start:at - 1]) if code == _PUT else int.from_bytes(data[start:at], "little"))
        elif code == _STOP:
            return


def _put(container: Any, key: Any, value: Any) -> None:
    if value is _IN_SET:
        container.add(key)
    else:
        container[key] = value


def _hashes(key: Any) -> bool:
    """Whether ``key`` goes into a plain dict now (its hash may read state set later)."""
    try:
        hash(key)
    except _FAILS:
        return False
    return True


def _lost(exc: BaseException) -> str:
    return "not restored: %s" % describe_exception(exc)


class _Rereading(_HandOver, _PythonUnpickler):
    """The tolerant unpickler of one record.  What it builds is told by its real class:
    isinstance() reads ``__class__``, a program's property or a dead weak proxy's ReferenceError."""

    dispatch = dict(_PythonUnpickler.dispatch)

    def __init__(self, reader: "RecordReader", memo: Dict[int, Any]) -> None:
        super().__init__(reader.stream, reader)
        self.memo = memo
        self._earlier = frozenset(memo)   # the keys of the records before this one
        self._deferred: List[Tuple[Any, Any, Any]] = []   # (container, key, value), in order
        self._held: Set[int] = set()   # containers with a deferred insertion: later ones wait too, in order
        self._failed_call: Any = None   # the placeholder of a call that failed, and its arguments
        self._failed_args: Any = ()

    def _insert(self, container: Any, key: Any, value: Any) -> None:
        if is_placeholder(container):  # a container this reading lost: it says so already
            return
        if id(container) not in self._held:
            try:
                _put(container, key, value)
                return
            except _FAILS as exc:
                if type(container) not in (dict, set) and _hashes(key):
                    # The container's own __setitem__ or add refuses: lost now, while this
                    # reading can still put a placeholder in its stead (at the record's end
                    # what holds it has it already, and a dict subclass cannot change class).
                    self._spoil(container, _lost(exc))
                    return
                self._held.add(id(container))
        self._deferred.append((container, key, value))

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._insert(self.stack[-1], key, value)

    def load_setitems(self) -> None:
        items = self.pop_mark()
        for i in range(0, len(items), 2):
            self._insert(self.stack[-1], items[i], items[i + 1])

    def load_additems(self) -> None:
        items = self.pop_mark()
        for item in items:
            self._insert(self.stack[-1], item, _IN_SET)

    def load_stop(self) -> None:
        for container, key, value in self._deferred:
            try:
                _put(container, key, value)
            except _FAILS as exc:
                # For good: the item stays, its key a placeholder saying why.
                try:
                    _put(container, Placeholder(qualified_type(key), _lost(exc)), value)
                except _FAILS as again:
                    self._spoil(container, _lost(again))
        super().load_stop()

    def _made(self, kind: Any, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except _FAILS as exc:
            return Placeholder(qualified_class(kind) if issubclass(type(kind), type) else "object", _lost(exc))

    def load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack.pop()
        made = self._made(func, lambda: func(*args))
        if is_placeholder(made) and type(args) is tuple and len(args) == 2:
            self._failed_call, self._failed_args = made, args
        self.append(made)

    def load_pop(self) -> None:
        # A state setter's call (``__reduce__``'s sixth item) is a REDUCE whose result is
        # popped: when it failed, the object it was to set up is what is lost.
        if self.stack and self.stack[-1] is self._failed_call:
            self._spoil(self._failed_args[0], self._failed_call.reason)
        super().load_pop()

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._made(cls, lambda: cls.__new__(cls, *args)))

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._made(cls, lambda: cls.__new__(cls, *args, **kwargs)))

    def load_build(self) -> None:
        if is_placeholder(self.stack[-2]):
            self.stack.pop()   # the state of an object this reading could not make
            return
        super().load_build()

    def load_frozenset(self) -> None:
        items = self.pop_mark()
        self.append(self._made(frozenset, lambda: frozenset(items)))

    def _spoil(self, obj: Any, reason: str) -> None:
        """``obj`` a placeholder: in place where its class can change, else in its stead on the
        stack and in this record's memo entries (what refers to it already keeps it)."""
        if is_placeholder(obj):   # lost already, and why is said
            return
        _become_placeholder(obj, reason)
        if is_placeholder(obj):
            return
        stand_in = Placeholder(qualified_type(obj), reason)
        for stack in (self.stack, *self.metastack):
            stack[:] = [stand_in if item is obj else item for item in stack]
        for key, value in list(self.memo.items()):
            if value is obj and key not in self._earlier:
                self.memo[key] = stand_in


def _building(load: Callable[[Any], None]) -> Callable[[Any], None]:
    """A step that sets up the object below its argument on the stack (its state, its items):
    when it fails, that object is a placeholder."""
    def guarded(self: _Rereading) -> None:
        try:
            load(self)
        except _FAILS as exc:
            self._spoil(self.stack[-1], _lost(exc))
    return guarded


for _code, _load in ((pickle.SETITEM, _Rereading.load_setitem), (pickle.SETITEMS, _Rereading.load_setitems),
                     (pickle.ADDITEMS, _Rereading.load_additems), (pickle.STOP, _Rereading.load_stop),
                     (pickle.REDUCE, _Rereading.load_reduce), (pickle.POP, _Rereading.load_pop),
                     (pickle.NEWOBJ, _Rereading.load_newobj), (pickle.NEWOBJ_EX, _Rereading.load_newobj_ex),
                     (pickle.FROZENSET, _Rereading.load_frozenset),
                     (pickle.BUILD, _building(_Rereading.load_build)),
                     (pickle.APPEND, _building(_PythonUnpickler.load_append)),
                     (pickle.APPENDS, _building(_PythonUnpickler.load_appends))):
    _Rereading.dispatch[_code[0]] = _load
