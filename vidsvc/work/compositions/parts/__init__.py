"""Split renders across instances (docs/rendering.md#split-renders): a long composition's
parts as rows of JobKind.PART that any instance claims, joined frame-exact by whichever
instance is free.

    parent (a composition, fanout.py): prepare, plan the split, insert the part rows and
        hand off (its row stays processing, its lease long, no slot held)
    part (handler.py → work.py): a video window or the whole mix, rendered, stored under a
        key holding its lease token, completed by a fenced write; then fanin.py inserts the
        join row once every part is done (an idempotent insert: never lost, never twice)
    join (join.py): the parts' recorded keys fetched, joined by packet index, checked, stored
        at the parent's keys; the parent completes through its own fenced write

keeper.py holds the parent's lease and progress while parts run; a part that fails, or a
parent requeued for any reason, falls back to one pass (fanout.wanted).
"""
