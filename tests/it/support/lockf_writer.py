# Another program sharing confine's convention, as a Python user would write it: for each of
# TIMES updates, lockf(LOCK_EX) on DOC.lock, read DOC (a missing one counts as {}), bump its
# counter "n", write a temp file beside it, fsync, rename over DOC, fsync the directory,
# unlock. Prints each update's time in nanoseconds, one a line.
# Usage: python3 lockf_writer.py DOC TIMES (or python3 -c "$(cat lockf_writer.py)" DOC TIMES)
# Used by tests/it/stress.rs and the benchmark (bench/src/others.rs).
import fcntl, json, os, sys, time

path, times = sys.argv[1], int(sys.argv[2])
folder = os.path.dirname(path)
lock = open(path + ".lock", "a+")
spent = []
for _ in range(times):
    start = time.perf_counter_ns()
    fcntl.lockf(lock, fcntl.LOCK_EX)
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        doc = {}
    doc["n"] = doc.get("n", 0) + 1
    tmp = path + ".python-writer.partial"  # one per document: each writer holds only its own lock
    with open(tmp, "w") as f:
        json.dump(doc, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    d = os.open(folder, os.O_RDONLY)
    os.fsync(d)
    os.close(d)
    fcntl.lockf(lock, fcntl.LOCK_UN)
    spent.append(time.perf_counter_ns() - start)
print("\n".join(map(str, spent)))
