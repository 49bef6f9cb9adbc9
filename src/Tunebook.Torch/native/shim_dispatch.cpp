// Calling any ATen operator by name through the dispatcher (boxed calling convention).
//
// tb_op_find caches the OperatorHandle; tb_op_call turns the tagged C arguments into a
// torch::jit::Stack, fills missing trailing arguments from the schema's defaults, coerces the few
// conversions C callers cannot express exactly (an int where a float or an int[] is expected), and
// calls the operator. The Autograd dispatch key runs as for any other call, so gradients flow.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <mutex>
#include <unordered_map>
#include "shim_internal.h"

namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string schema;
};

std::mutex cache_mutex;
std::unordered_map<std::string, OpEntry*> cache;  // entries live for the process lifetime

OpEntry* find_op(const char* name, const char* overload) {
  std::string key = std::string(name) + "." + overload;
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto handle = c10::Dispatcher::singleton().findSchema(c10::OperatorName(name, overload));
  if (!handle.has_value()) return nullptr;
  auto* entry = new OpEntry{*handle, c10::toString(handle->schema())};
  cache.emplace(key, entry);
  return entry;
}

const char* kind_name(int32_t kind) {
  switch (kind) {
    case TB_NONE: return "None";
    case TB_TENSOR: return "Tensor";
    case TB_INT: return "int";
    case TB_DOUBLE: return "float";
    case TB_BOOL: return "bool";
    case TB_INT_LIST: return "int[]";
    case TB_DOUBLE_LIST: return "float[]";
    case TB_TENSOR_LIST: return "Tensor[]";
    case TB_OPT_TENSOR_LIST: return "Tensor?[]";
    case TB_DTYPE: return "ScalarType";
    case TB_STRING: return "str";
    case TB_DEVICE: return "Device";
    case TB_BOOL_LIST: return "bool[]";
    default: return "unknown";
  }
}

[[noreturn]] void mismatch(const OpEntry& op, const c10::Argument& param, const char* got) {
  throw std::invalid_argument(op.schema + ": argument '" + param.name() + "' expects " + param.type()->str() +
                              ", got " + got);
}

bool is_int_like(c10::TypeKind k) { return k == c10::TypeKind::IntType || k == c10::TypeKind::SymIntType; }

bool is_int_list(const c10::TypePtr& t) {
  if (t->kind() != c10::TypeKind::ListType) return false;
  return is_int_like(t->castRaw<c10::ListType>()->getElementType()->kind());
}

const at::Tensor* tensor_ptr(const void* p) { return static_cast<const at::Tensor*>(p); }

c10::IValue to_ivalue(const OpEntry& op, const c10::Argument& param, const tb_value& v) {
  const c10::TypePtr& declared = param.type();
  bool optional = declared->kind() == c10::TypeKind::OptionalType;
  c10::TypePtr t = optional ? declared->castRaw<c10::OptionalType>()->getElementType() : declared;
  c10::TypeKind k = t->kind();
  switch (v.kind) {
    case TB_NONE:
      if (!optional && k != c10::TypeKind::NoneType) mismatch(op, param, "None");
      return c10::IValue();
    case TB_TENSOR:
      if (v.p == nullptr) {
        if (!optional) mismatch(op, param, "None (a null tensor)");
        return c10::IValue();
      }
      if (k == c10::TypeKind::TensorType) return c10::IValue(*tensor_ptr(v.p));
      mismatch(op, param, "Tensor");
    case TB_INT:
      if (is_int_like(k) || k == c10::TypeKind::NumberType) return c10::IValue(v.i);
      if (k == c10::TypeKind::FloatType) return c10::IValue(static_cast<double>(v.i));
      if (is_int_list(t)) return c10::IValue(std::vector<int64_t>{v.i});
      if (k == c10::TypeKind::ScalarTypeType || k == c10::TypeKind::MemoryFormatType || k == c10::TypeKind::LayoutType)
        return c10::IValue(v.i);
      if (k == c10::TypeKind::BoolType) return c10::IValue(v.i != 0);
      mismatch(op, param, "int");
    case TB_DOUBLE:
      if (k == c10::TypeKind::FloatType || k == c10::TypeKind::NumberType) return c10::IValue(v.d);
      mismatch(op, param, "float");
    case TB_BOOL:
      if (k == c10::TypeKind::BoolType || k == c10::TypeKind::NumberType) return c10::IValue(v.i != 0);
      mismatch(op, param, "bool");
    case TB_INT_LIST: {
      if (!is_int_list(t)) mismatch(op, param, "int[]");
      if (v.n < 0 || (v.n > 0 && v.p == nullptr)) throw std::invalid_argument("bad int[] argument for '" + param.name() + "'");
      auto* p = static_cast<const int64_t*>(v.p);
      return c10::IValue(std::vector<int64_t>(p, p + v.n));
    }
    case TB_DOUBLE_LIST: {
      if (k != c10::TypeKind::ListType) mismatch(op, param, "float[]");
      auto* p = static_cast<const double*>(v.p);
      return c10::IValue(std::vector<double>(p, p + v.n));
    }
    case TB_BOOL_LIST: {
      if (k != c10::TypeKind::ListType) mismatch(op, param, "bool[]");
      auto* p = static_cast<const uint8_t*>(v.p);
      c10::List<bool> list;
      for (int64_t i = 0; i < v.n; i++) list.push_back(p[i] != 0);
      return c10::IValue(std::move(list));
    }
    case TB_TENSOR_LIST:
    case TB_OPT_TENSOR_LIST: {
      if (k != c10::TypeKind::ListType) mismatch(op, param, kind_name(v.kind));
      auto elem = t->castRaw<c10::ListType>()->getElementType();
      auto* p = static_cast<void* const*>(v.p);
      if (elem->kind() == c10::TypeKind::OptionalType) {
        c10::List<c10::optional<at::Tensor>> list;
        list.reserve(v.n);
        for (int64_t i = 0; i < v.n; i++)
          list.push_back(p[i] ? c10::optional<at::Tensor>(*tensor_ptr(p[i])) : c10::nullopt);
        return c10::IValue(std::move(list));
      }
      if (elem->kind() != c10::TypeKind::TensorType) mismatch(op, param, kind_name(v.kind));
      c10::List<at::Tensor> list;
      list.reserve(v.n);
      for (int64_t i = 0; i < v.n; i++) {
        if (p[i] == nullptr) throw std::invalid_argument(op.schema + ": argument '" + param.name() + "' element " + std::to_string(i) + " is None");
        list.push_back(*tensor_ptr(p[i]));
      }
      return c10::IValue(std::move(list));
    }
    case TB_DTYPE:
      if (k != c10::TypeKind::ScalarTypeType && k != c10::TypeKind::IntType) mismatch(op, param, "ScalarType");
      return c10::IValue(static_cast<int64_t>(tb::scalar_type(static_cast<int32_t>(v.i))));
    case TB_STRING:
      if (k != c10::TypeKind::StringType) mismatch(op, param, "str");
      return c10::IValue(std::string(static_cast<const char*>(v.p), static_cast<size_t>(v.n)));
    case TB_DEVICE:
      if (k != c10::TypeKind::DeviceObjType) mismatch(op, param, "Device");
      return c10::IValue(tb::device(static_cast<int32_t>(v.i), static_cast<int32_t>(v.n)));
    default:
      throw std::invalid_argument("unknown argument kind " + std::to_string(v.kind) + " for '" + param.name() + "'");
  }
}

void release(tb_value* results, int32_t count) {
  for (int32_t i = 0; i < count; i++)
    if (results[i].kind == TB_TENSOR) delete static_cast<at::Tensor*>(const_cast<void*>(results[i].p));
}

// Thrown when the caller's result buffer is too small; tb_op_call returns -2 so the caller can
// retry a side-effect-free operator with a larger buffer.
struct TooManyResults : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void put(tb_value* results, int32_t& count, int32_t max, const tb_value& v) {
  if (count >= max) {
    if (v.kind == TB_TENSOR) delete static_cast<at::Tensor*>(const_cast<void*>(v.p));
    release(results, count);
    count = 0;
    throw TooManyResults("operator returned more than " + std::to_string(max) + " results");
  }
  results[count++] = v;
}

tb_value tensor_result(const at::Tensor& t) {
  tb_value r{};
  if (t.defined()) {
    r.kind = TB_TENSOR;
    r.p = new at::Tensor(t);
  } else {
    r.kind = TB_NONE;
  }
  return r;
}

}  // namespace

TB_API tb_op tb_op_find(const char* name, const char* overload) {
  TB_GUARD_BEGIN
  if (name == nullptr) throw std::invalid_argument("null operator name");
  OpEntry* e = find_op(name, overload ? overload : "");
  if (e == nullptr)
    throw std::invalid_argument(std::string("libtorch ") + tb_version() + " has no operator " + name +
                                (overload && *overload ? std::string(".") + overload : std::string()));
  return e;
  TB_GUARD_END(nullptr)
}

TB_API tb_op tb_op_try_find(const char* name, const char* overload) {
  TB_GUARD_BEGIN
  if (name == nullptr) return nullptr;
  return find_op(name, overload ? overload : "");
  TB_GUARD_END(nullptr)
}

TB_API const char* tb_op_schema(tb_op op) {
  if (op == nullptr) return "";
  return static_cast<OpEntry*>(op)->schema.c_str();
}

TB_API int32_t tb_op_call(tb_op opaque, const tb_value* args, int32_t nargs, tb_value* results, int32_t maxresults) {
  TB_GUARD_BEGIN
  if (opaque == nullptr) throw std::invalid_argument("null operator handle");
  const OpEntry& op = *static_cast<OpEntry*>(opaque);
  const auto& params = op.handle.schema().arguments();
  if (nargs < 0 || static_cast<size_t>(nargs) > params.size())
    throw std::invalid_argument(op.schema + ": takes " + std::to_string(params.size()) + " arguments, got " + std::to_string(nargs));
  // One stack per thread, reused: saves an allocation per call on the hot path. The dispatcher never
  // calls back into this function on the same thread while the stack is in use.
  static thread_local torch::jit::Stack stack;
  struct ClearOnExit {  // release argument/result references on every path, errors included
    torch::jit::Stack& s;
    ~ClearOnExit() { s.clear(); }
  } clear_on_exit{stack};
  stack.clear();
  stack.reserve(params.size());
  for (size_t i = 0; i < params.size(); i++) {
    if (i < static_cast<size_t>(nargs) && args[i].kind != TB_DEFAULT) {
      stack.push_back(to_ivalue(op, params[i], args[i]));
    } else {
      const auto& def = params[i].default_value();
      if (!def.has_value())
        throw std::invalid_argument(op.schema + ": missing argument '" + params[i].name() + "' (" + params[i].type()->str() + ")");
      stack.push_back(*def);
    }
  }
  op.handle.callBoxed(stack);
  int32_t count = 0;
  try {
  for (const c10::IValue& v : stack) {
    if (v.isTensor()) {
      put(results, count, maxresults, tensor_result(v.toTensor()));
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorVector()) put(results, count, maxresults, tensor_result(t));
    } else if (v.isInt()) {
      tb_value r{}; r.kind = TB_INT; r.i = v.toInt(); put(results, count, maxresults, r);
    } else if (v.isDouble()) {
      tb_value r{}; r.kind = TB_DOUBLE; r.d = v.toDouble(); put(results, count, maxresults, r);
    } else if (v.isBool()) {
      tb_value r{}; r.kind = TB_BOOL; r.i = v.toBool() ? 1 : 0; put(results, count, maxresults, r);
    } else if (v.isNone()) {
      tb_value r{}; r.kind = TB_NONE; put(results, count, maxresults, r);
    } else {
      release(results, count);
      throw std::invalid_argument(op.schema + ": result of type " + v.tagKind() + " is not supported by the shim");
    }
  }
  } catch (const TooManyResults& e) {
    tb::set_error(op.schema + ": " + e.what());
    return -2;
  }
  return count;
  TB_GUARD_END(-1)
}
