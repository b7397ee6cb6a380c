"""Packages a project may use without declaring them: widely used ones, by the name code
imports them under. An undeclared import outside this list is more often a local module
that was never written (`from utils import x`) or a typo than a package — and the index
may well hold a stranger's package by that name — so it is reported, not installed.
"""

from __future__ import annotations

# Import name → distribution (where they differ, see dependencies.PYTHON_IMPORT_ALIASES).
WELL_KNOWN_PYTHON_IMPORTS = frozenset({
    "aiofiles", "aiohttp", "aiosqlite", "anyio", "apscheduler", "arrow", "asyncpg", "attr",
    "attrs", "babel", "bcrypt", "bleach", "boto3", "botocore", "bottle", "bs4", "cachetools",
    "cattrs", "celery", "certifi", "chardet", "charset_normalizer", "click", "colorama",
    "Crypto", "cryptography", "dataclasses_json", "dateutil", "decorator", "deprecated",
    "django", "docx", "dotenv", "email_validator", "emoji", "falcon", "faker", "fastapi",
    "feedparser", "filelock", "flask", "freezegun", "grpc", "gunicorn", "html5lib",
    "httptools", "httpx", "humanize", "hypothesis", "idna", "inflect", "itsdangerous",
    "jinja2", "jsonschema", "jwt", "kombu", "lark", "loguru", "lxml", "magic", "markdown",
    "markdown_it", "marshmallow", "matplotlib", "mistune", "more_itertools", "msgpack",
    "multipart", "nacl", "networkx", "num2words", "numpy", "openpyxl", "orjson", "packaging",
    "pandas", "paramiko", "parameterized", "passlib", "peewee", "pendulum", "phonenumbers",
    "PIL", "pika", "platformdirs", "plotly", "pluggy", "ply", "psutil", "psycopg",
    "psycopg2", "pydantic", "pygments", "pymongo", "pyparsing", "pypdf", "pyperclip", "pytz",
    "quart", "redis", "regex", "reportlab", "requests", "responses", "rich", "sanic",
    "schedule", "scipy", "seaborn", "serial", "simplejson", "six", "sklearn", "slugify",
    "sortedcontainers", "sqlalchemy", "sqlmodel", "sqlparse", "starlette", "structlog",
    "sympy", "tabulate", "tenacity", "toml", "tomli", "tomlkit", "toolz", "tqdm", "trio",
    "typer", "typing_extensions", "tzdata", "ujson", "unidecode", "urllib3", "uvicorn",
    "validators", "waitress", "wcwidth", "websockets", "werkzeug", "wrapt", "xlsxwriter",
    "xmltodict", "yaml", "zmq",
})

WELL_KNOWN_NPM = frozenset({
    "@hapi/hapi", "@koa/router", "ajv", "async", "axios", "bcrypt", "bcryptjs", "better-sqlite3",
    "big.js", "bignumber.js", "bluebird", "body-parser", "chai", "chalk", "cheerio",
    "cli-table3", "commander", "cookie-parser", "cors", "csv-parse", "csv-parser", "date-fns",
    "dayjs", "debug", "decimal.js", "dotenv", "ejs", "express", "express-session",
    "express-validator", "fastify", "figlet", "fs-extra", "glob", "handlebars", "helmet",
    "immer", "ini", "inquirer", "ioredis", "joi", "js-yaml", "jsonwebtoken", "kleur", "knex",
    "koa", "koa-router", "lodash", "luxon", "markdown-it", "marked", "mathjs", "minimist",
    "mkdirp", "mocha", "moment", "mongoose", "morgan", "multer", "mustache", "mysql2",
    "nanoid", "node-fetch", "nodemailer", "numeral", "ora", "papaparse", "passport", "pg",
    "picocolors", "pino", "pug", "ramda", "redis", "rimraf", "rxjs", "semver", "sequelize",
    "socket.io", "sqlite3", "supertest", "underscore", "uuid", "validator", "winston", "ws",
    "xml2js", "yaml", "yargs", "yup", "zod",
})
