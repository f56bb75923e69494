-- Denser pages for rows that stop changing. Since the roll-up (migration 003), an hour row and
-- its sketches are rewritten once a minute while their hour is open and never after, and a minute
-- row only while its minute is current; yet every page of the 400 days of hours kept half its
-- space (fillfactor 50) and every page of sketches and minutes 30 %, for updates that never
-- come: 276 bytes an event in rollups_hour after the demo, most of it empty. An open row that no
-- longer fits on its page moves (an index entry more, which the next VACUUM removes); the pages
-- of closed buckets stay full. Only pages written from now on are filled this far.
ALTER TABLE rollups_hour SET (fillfactor = 90);
ALTER TABLE rollup_sketches SET (fillfactor = 90);
ALTER TABLE rollups_minute SET (fillfactor = 90);
