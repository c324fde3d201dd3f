"""The package in layers: imports run one way, from the application down to the files, with
no cycle, and TensorFlow only inside the engine; art.py's names stay where users import them."""
import ast
import pathlib

import art

PACKAGE = pathlib.Path(art.__file__).parent
# Lowest first: a module may import from its own layer and the ones before it.
LAYERS = ('constants', 'examples', 'io', 'network', 'engine', 'app')


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob('*.py')}


def layer(module):
    """The layer of an art module: its first name below art."""
    parts = module.split('.')
    return LAYERS.index(parts[1]) if len(parts) > 1 else len(LAYERS)


def imported(path):
    """Every module `path` imports, at its top or inside functions, and the art modules named
    to importlib.import_module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {'%s.%s' % (node.module, alias.name) for alias in node.names
                      if '%s.%s' % (node.module, alias.name) in MODULES}
        elif (isinstance(node, ast.Call) and getattr(node.func, 'attr', None) == 'import_module'
              and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value)
    return names


# `from art import __version__` reads the package's own names; art imports nothing itself.
GRAPH = {module: {name for name in imported(path) if name in MODULES and name not in (module,
                                                                                      'art')}
         for module, path in MODULES.items()}


def test_every_module_is_in_a_layer():
    assert {module.split('.')[1] for module in MODULES if module != 'art'} == set(LAYERS)
    assert GRAPH['art'] == set()  # art's public names are imported on first use


def test_imports_run_from_the_application_down_to_the_files():
    upward = sorted('%s imports %s' % (module, name) for module, names in GRAPH.items()
                    for name in names if module != 'art' and layer(name) > layer(module))
    assert upward == []


def test_there_is_no_import_cycle():
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError('cycle: ' + ' -> '.join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for name in sorted(GRAPH[module]):
            # A package's __init__ runs before its modules: not an edge back.
            if not module.startswith(name + '.'):
                visit(name)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_tensorflow_is_imported_only_inside_the_engine():
    outside = sorted(module for module, path in MODULES.items()
                     if layer(module) != LAYERS.index('engine')
                     and any(name.split('.')[0] == 'tensorflow' or name == 'art.engine.tf1'
                             for name in imported(path)))
    assert outside == []


def test_art_py_public_names_stay_where_users_import_them():
    for name in ('load_vgg_model', 'content_loss_func', 'style_loss_func',
                 'generate_noise_image', 'load_image', 'save_image', 'MEAN_VALUES'):
        assert getattr(art, name) is not None
    assert art.load_vgg_model.__module__ == 'art.engine.vgg'


# Declarative tables, read as one list of entries: exempt from the length of a function.
TABLES = {('art.app.arguments', 'build_parser')}


def test_modules_and_functions_stay_short():
    long = []
    for module, path in MODULES.items():
        text = path.read_text()
        if len(text.splitlines()) > 400:
            long.append('%s: %d lines' % (module, len(text.splitlines())))
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.end_lineno - node.lineno >= 60
                    and (module, node.name) not in TABLES):
                long.append('%s.%s: %d lines' % (module, node.name,
                                                 node.end_lineno - node.lineno + 1))
    assert long == []
