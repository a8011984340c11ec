// JSON Schema -> GBNF (gbnf_parser.h), for structured output.
//
// Supported: type (object, array, string, number, integer, boolean, null, or
// a list of them), properties, required, additionalProperties (false, true,
// or a schema when there are no properties), enum, const, anyOf, oneOf,
// items, minItems, maxItems, minLength, maxLength, integer minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, $ref to #/$defs/... or
// #/definitions/..., and the annotations title, description, default,
// examples, $schema, $id, $comment. Any other keyword is an InvalidArgument
// naming it (never silently dropped).
//
// Generated JSON: properties come in the schema's order (required ones always,
// optional ones may be left out); declared properties only, even where
// additional ones would be allowed (still valid). Whitespace between tokens is
// bounded (a space, or a newline and up to 16 indentation characters) and
// numbers have at most 16 integer, 16 fraction and 3 exponent digits, so a
// model cannot loop forever on padding or digits. oneOf is generated as anyOf
// (a value matching two branches is possible only when branches overlap).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jarvis/status.h"

namespace jarvis::constrain {

// A grammar whose sentences are exactly one JSON value matching `schema`
// (the root rule), optionally preceded by whitespace.
Result<std::string> JsonSchemaToGbnf(const nlohmann::json& schema);

// Any JSON object (response_format json_object, Ollama format "json").
std::string JsonObjectGbnf();

// Tool calls and similar framed outputs: a grammar for
//   prefix  <one JSON value matching schema>  suffix
// with the literals exactly as given (e.g. "<tool_call>\n" and
// "\n</tool_call>"). The value's rules are those of JsonSchemaToGbnf.
Result<std::string> JsonValueBetweenLiteralsGbnf(std::string_view prefix, const nlohmann::json& schema,
                                                 std::string_view suffix);

// A GBNF string literal ("...") for arbitrary UTF-8 text.
std::string GbnfLiteral(std::string_view text);

}  // namespace jarvis::constrain
