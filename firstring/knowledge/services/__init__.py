"""Writes to the knowledge base: one function each, `<entity>_<verb>`, keyword-only, in a transaction."""

from firstring.knowledge.services.articles import (
    article_create,
    article_set_visibility,
    translation_add,
    translation_publish,
    translation_restore,
    translation_save,
    translation_submit,
    translation_unpublish,
)
from firstring.knowledge.services.attachments import attachment_add
from firstring.knowledge.services.feedback import (
    feedback_record,
    search_miss_record,
    suggestion_open_record,
    synonym_set_delete,
    synonym_set_save,
)
from firstring.knowledge.services.index import entry_vectors_rebuild, vocabulary_add, vocabulary_rebuild
from firstring.knowledge.services.structure import category_save, section_save

__all__ = [
    "article_create",
    "article_set_visibility",
    "attachment_add",
    "category_save",
    "entry_vectors_rebuild",
    "feedback_record",
    "search_miss_record",
    "section_save",
    "suggestion_open_record",
    "synonym_set_delete",
    "synonym_set_save",
    "translation_add",
    "translation_publish",
    "translation_restore",
    "translation_save",
    "translation_submit",
    "translation_unpublish",
    "vocabulary_add",
    "vocabulary_rebuild",
]
