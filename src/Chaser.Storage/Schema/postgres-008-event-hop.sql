-- The engine's own hop per decision: from the arrival of the input it was decided on (a frame, an answer, a fill, a
-- timer's firing) to the request's bytes handed to the socket, in microseconds; null when nothing was sent. Existing
-- rows keep null: they were not measured.
ALTER TABLE events ADD COLUMN hop_us double precision NULL;
