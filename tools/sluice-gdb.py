"""gdb helper for sluice tasks (stackful coroutines).

Load it with `source tools/sluice-gdb.py`, then:
  sluice tasks             list the tasks of every loop
  sluice bt ID|ADDR [...]  backtrace of a task (extra words go to `bt`)

Suspended tasks are shown by loading their saved registers into the
selected thread for the time of one `bt`, so `sluice bt` needs a live
process on x86-64. The saved frame layout comes from src/rt/ctx_x86_64.S.
"""

import contextlib
import struct

import gdb

ASM_FRAME = ("fpu", "r15", "r14", "r13", "r12", "rbx", "rbp", "rip")
UC_GREGS = {"r12": 4, "r13": 5, "r14": 6, "r15": 7, "rbp": 10, "rbx": 11,
            "rsp": 15, "rip": 16}
REGS = ("rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15")
MASK64 = (1 << 64) - 1
MAX_NODES = 1 << 20
NO_SYMBOLS = ("sluice: no sluice symbols in this program (%s); load a "
              "binary linked with sluice_core and built with -g")


def _sym(expr):
    """Evaluate `expr`, turning a missing symbol into a GdbError."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise gdb.GdbError(NO_SYMBOLS % e)


def _check_process():
    """Fail unless there is a process or a core to read."""
    if gdb.selected_thread() is None:
        raise gdb.GdbError("sluice: the program is not running")


def _backend():
    """Return "asm" or "ucontext": which member `struct sl_ctx` has."""
    names = [f.name for f in _sym("((struct sl_task *)0)->ctx").type.fields()]
    if "a" in names:
        return "asm"
    if "uc" in names:
        return "ucontext"
    raise gdb.GdbError("sluice: unknown struct sl_ctx layout %s" % names)


def _loops():
    """Yield every loop of the process (sl_rt_loop_registry)."""
    loop = _sym("sl_rt_loop_registry")
    for _ in range(MAX_NODES):
        if int(loop) == 0:
            return
        yield loop
        loop = loop["registry_next"]
    raise gdb.GdbError("sluice: the loop registry looks corrupt")


def _tasks(loop):
    """Yield the live tasks of `loop`, then its ended, unjoined ones."""
    off = int(_sym("(unsigned long)&((struct sl_task *)0)->link_all"))
    task_ptr = gdb.lookup_type("struct sl_task").pointer()
    for head in (loop["live"], loop["dead"]):
        node = head["next"]
        for _ in range(MAX_NODES):
            if int(node) == int(head.address):
                break
            yield gdb.Value(int(node) - off).cast(task_ptr)
            node = node["next"]
        else:
            raise gdb.GdbError("sluice: a task list looks corrupt")


def _state(task):
    """Return the task's state as a word, e.g. "waiting"."""
    return str(task["state"]).replace("SL_TASK_", "").lower()


def _string(ptr):
    """Return the C string at `ptr`, or "-" for NULL."""
    return "-" if int(ptr) == 0 else ptr.string()


def _stack_size(task):
    """Return the task's stack size in KiB, or "-" once it was freed."""
    if int(task["stack"]["map"]) == 0:
        return "-"
    return "%dK" % (int(task["stack"]["size"]) // 1024)


def _find(spec):
    """Return (loop, task) for a task id or address; fail if ambiguous."""
    try:
        want = int(spec, 0)
    except ValueError:
        raise gdb.GdbError("sluice: want a task id or address, not %r" % spec)
    hits = [(loop, t) for loop in _loops() for t in _tasks(loop)
            if int(t["id"]) == want or int(t) == want]
    if not hits:
        raise gdb.GdbError("sluice: no task %s (see `sluice tasks`)" % spec)
    if len(hits) > 1:
        addrs = ", ".join(hex(int(t)) for _, t in hits)
        raise gdb.GdbError("sluice: id %s is on several loops; give one of "
                           "%s" % (spec, addrs))
    return hits[0]


def _never_ran(task, backend):
    """Whether the task has a fresh context that was never switched to."""
    if bool(task["fresh"]):
        return True  # its first frame is written when it first runs
    if backend == "ucontext":
        return int(task["ctx"]["uc"]["fn"]) != 0
    start = int(_sym("(unsigned long)&sl_ctx_asm_trampoline"))
    return _saved_regs(task, backend)["rip"] == start


def _saved_regs(task, backend):
    """Return the registers saved when the task last switched out."""
    if backend == "ucontext":
        gregs = task["ctx"]["uc"]["uc"]["uc_mcontext"]["gregs"]
        return {r: int(gregs[i]) & MASK64 for r, i in UC_GREGS.items()}
    sp = int(task["ctx"]["a"]["sp"])
    raw = gdb.selected_inferior().read_memory(sp, 8 * len(ASM_FRAME))
    regs = dict(zip(ASM_FRAME, struct.unpack("<8Q", bytes(raw))))
    regs["rsp"] = sp + 8 * len(ASM_FRAME)
    return regs


@contextlib.contextmanager
def _kept_selection():
    """Put the selected thread and frame level back on exit."""
    thread, level = gdb.selected_thread(), gdb.selected_frame().level()
    try:
        yield
    finally:
        thread.switch()
        frame = gdb.newest_frame()
        for _ in range(level):
            frame = frame.older() or frame
        frame.select()


def _thread_of(loop):
    """Return the thread whose tls_loop is `loop`, or None."""
    with _kept_selection():
        for th in gdb.selected_inferior().threads():
            th.switch()
            try:
                if int(gdb.parse_and_eval("tls_loop")) == int(loop):
                    return th
            except gdb.error:
                pass
    return None


def _set_regs(regs):
    """Write `regs` into frame 0 of the selected thread."""
    for r in REGS:
        gdb.newest_frame().select()
        gdb.execute("set $%s = %#x" % (r, regs[r]))


def _bt_with(regs, bt_args):
    """Run `bt` with `regs` loaded in frame 0, then put the real ones back."""
    with _kept_selection():
        gdb.newest_frame().select()
        real = {r: int(gdb.parse_and_eval("$" + r)) & MASK64 for r in REGS}
        try:
            try:
                _set_regs(regs)
            except gdb.error as e:
                raise gdb.GdbError(
                    "sluice: cannot load the task's registers (%s); showing "
                    "a suspended task needs a live process. It resumes at "
                    "%s" % (e, gdb.execute("info symbol %#x" % regs["rip"],
                                           to_string=True).strip()))
            gdb.execute("bt " + bt_args)
        finally:
            _set_regs(real)


class SluiceCommand(gdb.Command):
    """Inspect sluice loops and tasks: `sluice tasks`, `sluice bt ID`."""

    def __init__(self):
        """Register the `sluice` prefix command."""
        super().__init__("sluice", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class SluiceTasks(gdb.Command):
    """List every task of every loop; `*` marks the running one.

Dead tasks are ended ones that were not joined yet."""

    def __init__(self):
        """Register `sluice tasks`."""
        super().__init__("sluice tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        """Print one table per loop."""
        _check_process()
        backend = _backend()
        loops = list(_loops())
        if not loops:
            print("sluice: no loops (none created yet, or all deleted)")
        for loop in loops:
            current = int(loop["current"])
            idle = current == int(loop["sched"].address)
            print("loop %#x, %d live tasks, %s backend%s" % (
                int(loop), int(loop["n_live"]), backend,
                " (scheduler running)" if idle else ""))
            print("  %5s  %-16s %-8s %-6s %7s  %-18s  %s" % (
                "ID", "NAME", "STATE", "CANCEL", "STACK", "TASK",
                "WAITS FOR"))
            for t in _tasks(loop):
                print("%s %5d  %-16s %-8s %-6s %7s  %-18s  %s" % (
                    "*" if int(t) == current else " ", int(t["id"]),
                    t["name"].string(), _state(t),
                    "yes" if t["cancelled"] else "no", _stack_size(t),
                    hex(int(t)), _string(t["wait_what"])))


class SluiceBt(gdb.Command):
    """Backtrace of a task: sluice bt ID|ADDRESS [bt options].

A suspended task is shown from its saved registers (live process only)."""

    def __init__(self):
        """Register `sluice bt`."""
        super().__init__("sluice bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        """Print the task's stack, or say why there is none."""
        words = arg.split(None, 1)
        if not words:
            raise gdb.GdbError("usage: sluice bt ID|ADDRESS [bt options]")
        _check_process()
        backend = _backend()
        loop, task = _find(words[0])
        bt_args = words[1] if len(words) > 1 else ""
        what = "task %d '%s'" % (int(task["id"]), task["name"].string())
        state = _state(task)
        if state == "dead":
            print("%s is dead (ended, not joined yet): no stack" % what)
        elif int(loop["current"]) == int(task):
            th = _thread_of(loop)
            print("%s is running (thread %s):" % (
                what, th.num if th else "unknown, using the selected one"))
            with _kept_selection():
                if th is not None:
                    th.switch()
                gdb.execute("bt " + bt_args)
        elif "x86-64" not in gdb.newest_frame().architecture().name():
            raise gdb.GdbError("sluice: `sluice bt` supports x86-64 only")
        elif _never_ran(task, backend):
            print("%s is %s but has not started yet: no stack" % (what, state))
        else:
            print("%s is %s (%s):" % (what, state, _string(task["wait_what"])))
            _bt_with(_saved_regs(task, backend), bt_args)


SluiceCommand()
SluiceTasks()
SluiceBt()
