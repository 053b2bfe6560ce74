"""`make bench`: the app's and the models' timings, live reading in the browser, the room's refresh."""
