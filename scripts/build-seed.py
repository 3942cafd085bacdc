#!/usr/bin/env python3
"""Builds the Sơn La seed rows (schemas/sonla-2026/seed/rows/*.json) from the source files in
schemas/sonla-2026/seed/: the official units CSVs and programme.json (extracted from the
programme document; see seed/NOTES.md). The output is committed; rerun after editing a source.
Each output file: {"table": NAME, "rows": [{"id": ROW_ID, FIELD: VALUE, ...}, ...]}."""
import csv, json, os, unicodedata

here = os.path.join(os.path.dirname(__file__), "..", "schemas", "sonla-2026", "seed")
out_dir = os.path.join(here, "rows")
os.makedirs(out_dir, exist_ok=True)
# NFC, and no stray spaces at either end (the source CSV has "Xã Chiềng Xuân " with one).
nfc = lambda s: unicodedata.normalize("NFC", s).strip() if isinstance(s, str) else s

# keep_null: fields written as null on purpose, so that seeding a database seeded before clears
# them (the 4-lane widening's deadline, which the text never gave).
def write(table, rows, keep_null=()):
    rows = [{k: nfc(v) for k, v in r.items() if (v is not None and v != "") or k in keep_null} for r in rows]
    with open(os.path.join(out_dir, table + ".json"), "w", encoding="utf-8") as f:
        json.dump({"table": table, "rows": rows}, f, ensure_ascii=False, indent=1)
        f.write("\n")

units = list(csv.DictReader(open(os.path.join(here, "sonla-units-2025.csv"), encoding="utf-8")))
write("unit", [{"id": u["code"], "code": u["code"], "name": u["name"], "type": u["type"],
                "valid_from": "2025-07-01"} for u in units])
conv = list(csv.DictReader(open(os.path.join(here, "sonla-units-2025-conversion.csv"), encoding="utf-8")))
write("unit_code_change", [{"id": c["old_code"] + ":" + c["new_code"], "old_code": c["old_code"],
                            "old_name": c["old_unit"], "old_district": c["old_district"],
                            "new_code": c["new_code"], "action": c["action"]} for c in conv])

prog = json.load(open(os.path.join(here, "programme.json"), encoding="utf-8"))
write("task_group", [{"id": g["code"], "code": g["code"], "number": g["number"], "title": g["title"]}
                     for g in prog["task_groups"]])
write("task", [{"id": t["code"], "code": t["code"], "task_group": t["group"], "title": t["title"],
                "lead": ", ".join(t.get("lead") or []), "implements": t.get("implements"),
                "deadline": t.get("deadline"), "units": ",".join(t.get("units") or []),
                "text": t.get("text")}
               for t in prog["tasks"]])
write("indicator", [{"id": i["code"], "code": i["code"], "task": i.get("task"), "title": i["title"],
                     "kind": i["kind"], "comparator": i.get("comparator") or "none",
                     "target": None if i.get("target") is None else float(i["target"]),
                     "target_max": None if i.get("target_max") is None else float(i["target_max"]),
                     "measure": i.get("unit"), "start": i.get("start"), "deadline": i.get("deadline"),
                     "applies_to": i["scope"], "note": i.get("note")} for i in prog["indicators"]],
      keep_null=("deadline",))
# Which units each indicator applies to, one row per pair, so a device receives only its own.
all_codes = [u["code"] for u in units]
pairs = []
for i in prog["indicators"]:
    codes = all_codes if i["scope"] == "all_communes_and_wards" else i.get("units") or []
    pairs += [{"id": i["code"] + ":" + c, "indicator": i["code"], "unit_code": c} for c in codes]
write("indicator_unit", pairs)
# Departments and agencies (sở, ban, ngành) report as themselves (section III.1), and who is
# expected to report on each task. Neither list is in the programme's text (its appendices are
# not in the seed): both are proposed in agencies.csv and task-reporters.csv for the Department
# of Finance to confirm (seed/NOTES.md).
agencies = list(csv.DictReader(open(os.path.join(here, "agencies.csv"), encoding="utf-8")))
write("agency", [{"id": a["code"], "code": a["code"], "name": a["name"]} for a in agencies])
codes = {a["code"] for a in agencies}
reporters = list(csv.DictReader(open(os.path.join(here, "task-reporters.csv"), encoding="utf-8")))
tasks = {t["code"] for t in prog["tasks"]}
for r in reporters:
    assert r["task"] in tasks and r["reporter"] in codes, r
write("task_reporter", [{"id": r["task"] + ":" + r["reporter"], "task": r["task"], "unit_code": r["reporter"]}
                        for r in reporters])
# Reporting periods (section III): units report before 5 June and 5 December, the Department of
# Finance aggregates before 10 June and 10 December.
periods = []
for y in range(2026, 2031):
    periods.append({"id": f"{y}-H1", "code": f"{y}-H1", "kind": "H1", "year": y, "starts": f"{y}-01-01",
                    "ends": f"{y}-06-30", "unit_due": f"{y}-06-05", "finance_due": f"{y}-06-10"})
    periods.append({"id": f"{y}", "code": f"{y}", "kind": "year", "year": y, "starts": f"{y}-01-01",
                    "ends": f"{y}-12-31", "unit_due": f"{y}-12-05", "finance_due": f"{y}-12-10"})
write("reporting_period", periods)
print("seed rows written to", os.path.relpath(out_dir))
