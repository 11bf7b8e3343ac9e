# Two commands do all set-up on a fresh Debian machine (root): `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARCHIVE_INSTANCE ?= $(CURDIR)/instance
export ARCHIVE_INSTANCE
PG_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
# mypy's cache outside the checkout, like pip's and the fonts': a fresh clone then re-checks only what changed
# (mypy validates every cached module by its source hash). Cold, mypy takes ~40 s of the suite here.
MYPY_CACHE_DIR ?= $(HOME)/.cache/archive-service/mypy
export MYPY_CACHE_DIR
# pytest-xdist workers per database leg; a file's tests stay on one worker (module fixtures start once)
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

RUN_PACKAGES := libmagic1 fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei fonts-noto-cjk fonts-lxgw-wenkai fontconfig poppler-utils tesseract-ocr tesseract-ocr-chi-sim
TEST_PACKAGES := $(RUN_PACKAGES) chromium libreoffice-writer-nogui curl
# the fonts build is reproducible: fixed timestamps in the converted faces
SOURCE_DATE_EPOCH ?= 1735689600
export SOURCE_DATE_EPOCH

.PHONY: npm-package run test lint system-packages system-packages-test venv venv-test postgres clean fonts fonts-fandol fontconfig

run: system-packages $(BIN)/.installed fonts
	$(BIN)/archive-service init --demo
	$(BIN)/archive-service serve --host 127.0.0.1 --port 5000

test: system-packages-test $(BIN)/.installed-test fonts tests/a11y/node_modules/.installed postgres
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(PYTEST) tests
	ARCHIVE_TEST_DATABASE_URL=$(PG_URL) $(PYTEST) -m "not dbless and not one_database" tests

# ruff (config in pyproject.toml) and mypy on archive_service, correspondence and search (also run by `make test`).
lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

# Install Debian packages only when one is missing (apt-get update once, non-interactive).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call apt_install,$(RUN_PACKAGES))
	@$(MAKE) --no-print-directory fontconfig

system-packages-test:
	$(call apt_install,$(TEST_PACKAGES))
	@$(MAKE) --no-print-directory fontconfig
	@# npm may come from Node.js's own packages (which conflict with Debian's npm): install only when absent.
	@command -v npm >/dev/null || $(MAKE) --no-print-directory npm-package

npm-package:
	$(call apt_install,npm)

# DOCX names the fonts an office PC has (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312): fontconfig maps them
# to the installed open faces for LibreOffice (fontconfig/archive-fonts.conf).
fontconfig:
	@cmp -s fontconfig/archive-fonts.conf /etc/fonts/conf.d/65-archive-fonts.conf || { \
	  install -D -m 644 fontconfig/archive-fonts.conf /etc/fonts/conf.d/65-archive-fonts.conf && fc-cache -f >/dev/null; }

# The default 公文 faces for PDF: Noto Serif/Sans CJK SC cut to GBK and converted from CFF to TrueType
# (archive_service/rendering/fontbuild.py; cached, built once: 5–35 s per face).
fonts: $(BIN)/.installed
	$(BIN)/archive-service fonts build

# Opt-in 仿宋: FandolFang from Debian's texlive-lang-chinese (49 MB .deb, only the fonts are extracted;
# no TeX is installed). Its licence is disputed (GPL with a font exception per Debian), hence not the
# default: see README “Fonts”.
fonts-fandol: $(BIN)/.installed
	@tmp=$$(mktemp -d) && cd $$tmp && apt-get update -qq && apt-get download -qq texlive-lang-chinese && \
	dpkg-deb -x texlive-lang-chinese_*.deb x && \
	$(CURDIR)/$(BIN)/archive-service fonts build --fandol \
	  --fandol-from x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol && \
	mkdir -p /usr/local/share/fonts/fandol && cp x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/*.otf \
	  /usr/local/share/fonts/fandol/ && fc-cache -f >/dev/null; rc=$$?; rm -rf $$tmp; exit $$rc

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/.installed $@

# axe-core for the accessibility tests (tests/test_accessibility.py), pinned by tests/a11y/package-lock.json.
tests/a11y/node_modules/.installed: tests/a11y/package.json tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	touch $@

# The local PostgreSQL normally runs already; start it when it does not answer.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

clean:
	rm -rf $(VENV) build *.egg-info tests/a11y/node_modules
