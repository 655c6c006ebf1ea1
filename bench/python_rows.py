# The Python rows of `make bench` (case 9), run by the Python that has the confine wheel
# installed. Each mode prints each update's time in ns, one a line, or (threads) the wall
# time of the whole run.
#
#   python_rows.py incr DIR N            store.incr of "n" in DIR/app.json, N times
#   python_rows.py threads DIR T PER     T threads sharing one Store, PER incr each
#   python_rows.py update DIR N          `with store.update(...)`: bump "n", N times
# (The design's own pattern on the same change is tests/it/support/other_locker.py.)
import sys, threading, time

import confine

DOC = "app.json"


def timed(update, times):
    spent = []
    for _ in range(times):
        start = time.perf_counter_ns()
        update()
        spent.append(time.perf_counter_ns() - start)
    print("\n".join(map(str, spent)))


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    store = confine.Store(folder, timeout=120.0)
    if mode == "incr":
        timed(lambda: store.incr(DOC, "n"), int(sys.argv[3]))
    elif mode == "update":

        def update():
            with store.update(DOC) as doc:
                doc["n"] += 1

        timed(update, int(sys.argv[3]))
    elif mode == "threads":
        count, per = int(sys.argv[3]), int(sys.argv[4])
        workers = [threading.Thread(target=lambda: [store.incr(DOC, "n") for _ in range(per)]) for _ in range(count)]
        start = time.perf_counter_ns()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        print(time.perf_counter_ns() - start)
    else:
        sys.exit(f"unknown mode {mode!r}")


main()
