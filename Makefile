# The two commands of the README: `make book` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Sources, oldest publication first: DONNEES="A.zip B.zip". Empty: the CLI default,
# tradebook.paths.SAMPLE_SOURCES (the 2023 and 2024 sample publications).
DONNEES ?=
ANNEE ?= 2024
DEPARTEMENTS ?=
PORT ?= 8000
VERBEUX ?=
INSTALL_LOG := $(VENV)/installation.log
PIP_OUTPUT = $(if $(VERBEUX),,>> $(INSTALL_LOG) 2>&1)

.PHONY: book test check-site serve bench sample clean

# pip's output goes to $(INSTALL_LOG), shown only when the installation fails
# (VERBEUX=1 shows it as it comes, and passes --verbeux to the book).
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installation des dépendances dans $(VENV)/…"
	@: > $(INSTALL_LOG)
	@if $(BIN)/python -m pip install --upgrade pip $(PIP_OUTPUT) \
	  && $(BIN)/python -m pip install -r requirements.txt $(PIP_OUTPUT); then \
	  touch $(STAMP); \
	else \
	  $(if $(VERBEUX),,cat $(INSTALL_LOG) >&2;) \
	  echo "Erreur : l'installation des dépendances a échoué (journal : $(INSTALL_LOG))." >&2; \
	  exit 1; \
	fi

book: $(STAMP)
	@$(BIN)/python -m tradebook book $(if $(strip $(DONNEES)),--donnees $(DONNEES)) --annee $(ANNEE) $(if $(DEPARTEMENTS),--departements $(DEPARTEMENTS)) $(if $(VERBEUX),--verbeux)

test: $(STAMP)
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "Erreur : aucun test collecté." >&2; exit 1; fi; exit $$rc

# Every page of the built site in Chromium, network cut (what .ci/run does after make book).
check-site: $(STAMP)
	@$(BIN)/python scripts/check_site.py _build/html

serve:
	$(BIN)/python -m http.server --directory _build/html --bind 127.0.0.1 $(PORT)

sample: $(STAMP)
	$(BIN)/python scripts/make_sample.py

bench: $(STAMP)
	$(BIN)/python scripts/bench_data.py
	$(BIN)/python scripts/bench_book.py

clean:
	rm -rf _build data/prepared book/departements book/regions book/france.ipynb book/exposition-etats-unis.md .cache book/_static/graphiques book/_static/tableaux book/_static/tradebook-vega.js
