#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and plays a script against it.

Usage: pty-driver.py SCRIPT_JSON -- COMMAND [ARGS...]
SCRIPT_JSON is a list of steps: {"expect": "text"} waits until the output holds the text
(after the previous expectation), {"send": "text"} types it, {"sleep": seconds} waits,
{"resize": [rows, cols]} changes the window size. The terminal starts at 30 rows, 100 cols.
Prints one JSON object: {"output": ..., "code": exit code, "timedOut": bool}.
"""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    sep = sys.argv.index("--")
    script = json.loads(sys.argv[1])
    argv = sys.argv[sep + 1:]
    deadline = time.time() + float(os.environ.get("PTY_TIMEOUT", "60"))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    set_size(fd, 30, 100)
    out = b""
    mark = 0
    timed_out = False

    def pump(wait):
        nonlocal out
        r, _, _ = select.select([fd], [], [], wait)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
        return True

    alive = True
    for step in script:
        if "expect" in step:
            want = step["expect"].encode()
            while want not in out[mark:]:
                if time.time() > deadline or not alive:
                    timed_out = time.time() > deadline
                    break
                alive = pump(0.1)
            idx = out.find(want, mark)
            if idx >= 0:
                mark = idx + len(want)
        elif "send" in step:
            os.write(fd, step["send"].encode())
        elif "sleep" in step:
            end = time.time() + step["sleep"]
            while time.time() < end and alive:
                alive = pump(0.05)
        elif "resize" in step:
            rows, cols = step["resize"]
            set_size(fd, rows, cols)
            os.kill(pid, signal.SIGWINCH)
    while alive and time.time() < deadline:
        alive = pump(0.2)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            while pump(0.05):
                pass
            break
    else:
        status = None
    if status is None:
        end = time.time() + 10
        done = 0
        while time.time() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        if not done:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"output": out.decode("utf-8", "replace"), "code": code, "timedOut": timed_out}))


main()
