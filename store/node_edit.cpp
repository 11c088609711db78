#include "store/node_edit.hpp"

#include <cstring>

namespace xs::store::edit {

void unshare(Node*& n) {
    if (n->refs == 1) return;
    Node* copy = Node::make(n->name(), n->value(), n->perms, n->is_dir() ? &n->children() : nullptr, n->gen());
    --n->refs;  // still referenced elsewhere
    n = copy;
}

void set_value(Node*& slot, std::string_view value, std::uint64_t gen) {
    Node* n = slot;
    if (n->value_len == value.size()) {
        if (!value.empty()) std::memcpy(const_cast<char*>(n->value().data()), value.data(), value.size());
        n->set_gen(gen);
        return;
    }
    slot = Node::make(n->name(), value, n->perms, n->is_dir() ? &n->children() : nullptr, gen);
    release(n);
}

void set_perms(Node* n, PermRef perms, std::uint64_t gen) {
    release(n->perms);
    n->perms = perms.detach();
    n->set_gen(gen);
}

ChildMap& children_of(Node*& slot) {
    if (!slot->is_dir()) {
        ChildMap none;
        Node* dir = Node::make(slot->name(), slot->value(), slot->perms, &none, slot->gen());
        release(slot);
        slot = dir;
    }
    return slot->dir_children();
}

}  // namespace xs::store::edit
