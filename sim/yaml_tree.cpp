#include "sim/yaml_tree.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "sim/errors.hpp"

namespace aimc {

namespace fs = std::filesystem;

std::string SourceLoc::str() const {
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

const YamlNode* YamlNode::find(const std::string& key) const {
    for (const auto& [k, v] : map)
        if (k == key) return &v;
    return nullptr;
}

YamlNode* YamlNode::find(const std::string& key) {
    for (auto& [k, v] : map)
        if (k == key) return &v;
    return nullptr;
}

const char* YamlNode::type_name() const {
    switch (type) {
        case Type::Null: return "nothing";
        case Type::Scalar: return "a scalar";
        case Type::Map: return "a mapping";
        case Type::Seq: return "a list";
    }
    return "?";
}

namespace {

SourceLoc loc_of(const YAML::Mark& m, const std::string& file) {
    SourceLoc l;
    l.file = file;
    l.line = m.line + 1;
    l.col = m.column + 1;
    return l;
}

// Aliases are expanded by copying: a small file can name a huge tree. Configs are small.
constexpr std::size_t kMaxNodes = 100000;

YamlNode convert(const YAML::Node& n, const std::string& file, int depth, std::size_t& nodes) {
    YamlNode out;
    out.loc = loc_of(n.Mark(), file);
    if (depth > 64) throw InputError(out.loc.str() + ": nesting deeper than 64 levels");
    if (++nodes > kMaxNodes) throw InputError(out.loc.str() + ": more than 100000 values (aliases expanded)");
    switch (n.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: out.type = YamlNode::Type::Null; break;
        case YAML::NodeType::Scalar:
            out.type = YamlNode::Type::Scalar;
            out.scalar = n.Scalar();
            break;
        case YAML::NodeType::Sequence:
            out.type = YamlNode::Type::Seq;
            for (const auto& item : n) out.seq.push_back(convert(item, file, depth + 1, nodes));
            break;
        case YAML::NodeType::Map: {
            out.type = YamlNode::Type::Map;
            // A set, not YamlNode::find: a mapping of 10^5 keys took minutes to check linearly.
            std::unordered_set<std::string> keys;
            for (const auto& kv : n) {
                SourceLoc kl = loc_of(kv.first.Mark(), file);
                if (!kv.first.IsScalar()) throw InputError(kl.str() + ": mapping keys must be plain names");
                std::string key = kv.first.Scalar();
                if (!keys.insert(key).second) throw InputError(kl.str() + ": duplicate key '" + key + "'");
                YamlNode child = convert(kv.second, file, depth + 1, nodes);
                if (child.type == YamlNode::Type::Null) child.loc = kl;  // null values have no useful mark
                child.key_loc = kl;
                out.map.emplace_back(key, std::move(child));
            }
            break;
        }
    }
    return out;
}

std::string read_file(const std::string& path) {
    std::error_code ec;
    if (fs::exists(path, ec) && !fs::is_directory(path, ec) && !fs::is_regular_file(path, ec))
        throw InputError(path + ": not a regular file");
    if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) > (1u << 24))
        throw InputError(path + ": larger than 16 MiB; not a config file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void merge_into(YamlNode& base, const YamlNode& over) {
    if (!base.is_map() || !over.is_map()) {
        base = over;
        return;
    }
    const YamlNode* over_kind = over.find("kind");
    const YamlNode* base_kind = base.find("kind");
    if (over_kind && base_kind && over_kind->scalar != base_kind->scalar) {
        base = over;
        return;
    }
    // Keys by position (indices stay valid as keys are appended), not YamlNode::find: linear
    // lookups made merging two wide mappings quadratic.
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < base.map.size(); ++i) index.emplace(base.map[i].first, i);
    for (const auto& [k, v] : over.map) {
        if (const auto it = index.find(k); it != index.end()) {
            YamlNode& b = base.map[it->second].second;
            SourceLoc kl = v.key_loc;
            merge_into(b, v);
            b.key_loc = kl;
        } else {
            index.emplace(k, base.map.size());
            base.map.emplace_back(k, v);
        }
    }
    base.loc = over.loc;
}

YamlNode resolve_base(YamlNode doc, const std::string& path, std::vector<std::string>& chain);

// `named_at` is the `base:` value that names this file (none for the top-level file).
// The path as the cycle check compares it. Never throws: a path the file system rejects (a name
// too long) is kept as written, and opening it gives the InputError.
std::string canonical_name(const std::string& path) {
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(fs::path(path), ec);
    return ec ? fs::path(path).lexically_normal().string() : canon.string();
}

YamlNode load_chain(const std::string& path, std::vector<std::string>& chain, const SourceLoc* named_at) {
    std::string canon = canonical_name(path);
    const std::string where = named_at ? named_at->str() + ": base" : path;
    for (const auto& c : chain) {
        if (c == canon) {
            std::string msg = "cycle in base chain: ";
            for (const auto& x : chain) msg += x + " -> ";
            throw InputError(where + ": " + msg + canon);
        }
    }
    if (chain.size() > 32) throw InputError(where + ": base chain longer than 32 files");
    chain.push_back(canon);
    return resolve_base(load_yaml_file(path), path, chain);
}

// Merges the `base:` chain of `doc`, the text of `path` (whose folder the base is relative to).
YamlNode resolve_base(YamlNode doc, const std::string& path, std::vector<std::string>& chain) {
    if (doc.type == YamlNode::Type::Null) throw InputError(path + ": file is empty");
    if (!doc.is_map()) throw InputError(doc.loc.str() + ": expected a mapping at the top level, got " + doc.type_name());
    const YamlNode* base = doc.find("base");
    if (!base) return doc;
    if (!base->is_scalar() || base->scalar.empty())
        throw InputError(base->loc.str() + ": base: expected a file name, got " + base->type_name());
    fs::path base_path = fs::path(path).parent_path() / base->scalar;
    std::error_code ec;  // e.g. "File name too long": an input error too, not a filesystem_error
    if (!fs::exists(base_path, ec))
        throw InputError(base->loc.str() + ": base: file not found: " + base_path.string() +
                         (ec ? " (" + ec.message() + ")" : ""));
    YamlNode merged = load_chain(base_path.string(), chain, &base->loc);
    YamlNode own = doc;
    own.map.erase(std::remove_if(own.map.begin(), own.map.end(), [](const auto& kv) { return kv.first == "base"; }),
                  own.map.end());
    merged.map.erase(std::remove_if(merged.map.begin(), merged.map.end(), [](const auto& kv) { return kv.first == "base"; }),
                     merged.map.end());
    merge_into(merged, own);
    return merged;
}

// yaml-cpp's messages may quote the offending byte: bytes that are not printable ASCII are
// written as \xNN, so that a binary file gives a readable message.
std::string printable(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f) {
            out += ch;
        } else {
            static const char hex[] = "0123456789abcdef";
            out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
        }
    }
    return out;
}

}  // namespace

YamlNode parse_yaml_text(const std::string& text, const std::string& name) {
    try {
        YAML::Node n = YAML::Load(text);
        std::size_t nodes = 0;
        return convert(n, name, 0, nodes);
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp stops its recursive parser at 2000 levels, with the message "bad file".
        throw InputError(loc_of(e.mark, name).str() + ": nesting deeper than 64 levels");
    } catch (const YAML::Exception& e) {
        SourceLoc l = loc_of(e.mark, name);
        throw InputError(l.str() + ": YAML syntax error: " + printable(e.msg));
    }
}

YamlNode load_yaml_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, expected a YAML file");
    return parse_yaml_text(read_file(path), path);
}

YamlNode load_with_base(const std::string& path) {
    std::vector<std::string> chain;
    return load_chain(path, chain, nullptr);
}

YamlNode parse_with_base(const std::string& text, const std::string& name) {
    std::vector<std::string> chain{canonical_name(name)};
    return resolve_base(parse_yaml_text(text, name), name, chain);
}

void apply_override(YamlNode& root, const std::string& assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw UsageError("--set " + assignment + ": expected key.path=value");
    std::string key = assignment.substr(0, eq);
    std::string text = assignment.substr(eq + 1);
    // A key of thousands of components would build a tree as deep (whose recursive destruction
    // overflowed the stack): the same limit as a file's nesting.
    if (std::count(key.begin(), key.end(), '.') >= 64)
        throw InputError("--set " + (assignment.size() > 80 ? assignment.substr(0, 80) + "..." : assignment) +
                         ": key nested deeper than 64 levels");
    SourceLoc where;
    where.file = "--set " + assignment;
    YamlNode value;
    try {
        YAML::Node n = YAML::Load(text);
        if (n.IsScalar()) {
            value.type = YamlNode::Type::Scalar;
            value.scalar = n.Scalar();
        } else if (n.IsNull()) {
            throw UsageError("--set " + assignment + ": missing value after '='");
        } else {
            throw UsageError("--set " + assignment + ": value must be a single scalar");
        }
    } catch (const YAML::DeepRecursion&) {
        throw UsageError("--set " + (assignment.size() > 80 ? assignment.substr(0, 80) + "..." : assignment) +
                         ": value must be a single scalar");
    } catch (const YAML::Exception& e) {
        throw UsageError("--set " + assignment + ": cannot parse value: " + printable(e.msg));
    }
    value.loc = where;
    value.key_loc = where;
    YamlNode* node = &root;
    std::string walked;
    size_t start = 0;
    while (true) {
        size_t dot = key.find('.', start);
        std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty()) throw UsageError("--set " + assignment + ": empty component in key '" + key + "'");
        walked += (walked.empty() ? "" : ".") + part;
        if (!node->is_map()) {
            if (node->type != YamlNode::Type::Null)
                throw InputError(where.str() + ": " + walked + ": cannot set a key inside " + node->type_name());
            node->type = YamlNode::Type::Map;
            node->loc = where;
        }
        YamlNode* child = node->find(part);
        if (dot == std::string::npos) {
            if (part == "kind" && child && child->is_scalar() && child->scalar != value.scalar) {
                // A new kind replaces the section, as in a derived file: the old kind's keys do not apply.
                node->map.clear();
                node->map.emplace_back(part, value);
                return;
            }
            if (child) {
                if (child->is_map()) throw InputError(where.str() + ": " + key + ": is a section; set one of its keys");
                *child = value;
            } else {
                node->map.emplace_back(part, value);
            }
            return;
        }
        if (!child) {
            YamlNode m;
            m.type = YamlNode::Type::Map;
            m.loc = where;
            m.key_loc = where;
            node->map.emplace_back(part, m);
            child = &node->map.back().second;
        }
        node = child;
        start = dot + 1;
    }
}

}  // namespace aimc
