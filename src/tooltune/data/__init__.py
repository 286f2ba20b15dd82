"""Datasets: the shared record shape, validation, statistics and the synthetic generator."""

from .records import DatasetError, Problem, Record, iter_jsonl, make_record, read_records, write_jsonl
from .validate import ValidationReport, validate_file

__all__ = ["DatasetError", "Problem", "Record", "ValidationReport", "iter_jsonl", "make_record", "read_records", "validate_file", "write_jsonl"]
