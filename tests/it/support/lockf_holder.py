# Takes lockf(LOCK_EX) on a file, as other programs that share confine's convention do.
# `try`: once, without waiting (exit 3 if busy); `hold`: wait for it, print "locked PID",
# and hold it until stdin closes. Used by tests/it and tests/store.
import fcntl, os, sys
f = open(sys.argv[1], "a+")
mode = sys.argv[2]
if mode == "try":
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("busy", flush=True)
        sys.exit(3)
    print("locked", flush=True)
    sys.exit(0)
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", os.getpid(), flush=True)
sys.stdin.read()  # hold the lock until stdin closes
